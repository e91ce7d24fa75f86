/**
 * Run with `--v8-flags=--expose-gc` by `watch_retention_test.ts`: streams EVENTS watch events of
 * about 4 KiB from a loopback server through `KubeClient.watch()`, consumes them, collects
 * garbage and prints how many bytes of `external` memory (where response chunks live) the
 * consumed watch still holds.
 */
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";

const EVENTS = 4_000;
const gc = (globalThis as { gc?: () => void }).gc!;
const encoder = new TextEncoder();
const event = encoder.encode(
  `${JSON.stringify({ type: "MODIFIED", object: { data: { v: "x".repeat(4_000) } } })}\n`,
);
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
  let sent = 0;
  // One event per chunk, as the API server flushes them; the stream stays open afterwards.
  return new Response(
    new ReadableStream({
      pull(controller) {
        if (sent++ < EVENTS) controller.enqueue(event.slice());
        else return new Promise(() => {});
      },
    }),
  );
});
const client = new KubeClient(
  { server: `http://127.0.0.1:${server.addr.port}`, namespace: "default", source: "probe" },
  { qps: 0 },
);
const watching = new AbortController();
gc();
const before = Deno.memoryUsage().external;
let seen = 0;
for await (const _ of client.watch("/api/v1/configmaps", {}, watching.signal)) {
  if (++seen === EVENTS) {
    gc();
    gc();
    console.log(JSON.stringify({ seen, retainedBytes: Deno.memoryUsage().external - before }));
    watching.abort();
  }
}
client.close();
await server.shutdown();
