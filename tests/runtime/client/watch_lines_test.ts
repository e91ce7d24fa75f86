import assert from "node:assert/strict";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import { ApiError } from "../../../src/runtime/client/api_error.ts";
import {
  DEFAULT_MAX_WATCH_LINE_BYTES,
  LineSplitter,
  WatchLineTooLongError,
} from "../../../src/runtime/client/watch_lines.ts";

const encoder = new TextEncoder();

/** `bytes` cut into pieces of `size`. */
function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  return Array.from(
    { length: Math.ceil(bytes.length / size) },
    (_, i) => bytes.subarray(i * size, (i + 1) * size),
  );
}

Deno.test("LineSplitter looks at each byte once for a line cut into many chunks", () => {
  const event = JSON.stringify({ type: "ADDED", object: { data: { big: "é".repeat(300_000) } } });
  const stream = encoder.encode(`${event}\n{"type":"DELETED"}\n`);
  const splitter = new LineSplitter();
  const lines = chunks(stream, 1_000).flatMap((chunk) => splitter.push(chunk));
  assert.equal(lines.length, 2);
  assert.equal(lines[0], event, "multi-byte characters split across chunks decode whole");
  assert.equal(splitter.scannedBytes, stream.length, "linear: no byte is searched twice");
});

Deno.test("LineSplitter fails a line longer than its cap with a clear error", () => {
  const splitter = new LineSplitter(1_024);
  assert.deepEqual(splitter.push(encoder.encode(`${"x".repeat(1_024)}\n`)), ["x".repeat(1_024)]);
  splitter.push(encoder.encode("y".repeat(1_000)));
  assert.throws(
    () => splitter.push(encoder.encode("y".repeat(100))),
    (error) =>
      error instanceof WatchLineTooLongError &&
      error.message.includes("limit of 1 KiB (maxWatchLineBytes = 1024)"),
  );
  assert.match(new WatchLineTooLongError(DEFAULT_MAX_WATCH_LINE_BYTES).message, /64 MiB/);
  assert.throws(() => new LineSplitter(0), RangeError);
});

Deno.test("KubeClient.watch() fails an over-long event with WatchLineTooLong, after the events before it", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    const body = ReadableStream.from((function* () {
      yield encoder.encode('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
      for (let i = 0; i < 10; i++) yield encoder.encode("z".repeat(1_000));
      yield encoder.encode("\n");
    })());
    return new Response(body);
  });
  const client = new KubeClient(
    { server: `http://127.0.0.1:${server.addr.port}`, namespace: "default", source: "test" },
    { qps: 0, maxWatchLineBytes: 4_096 },
  );
  try {
    const names: unknown[] = [];
    await assert.rejects(
      async () => {
        for await (
          const event of client.watch("/api/v1/configmaps", {}, new AbortController().signal)
        ) {
          names.push((event.object.metadata as { name: string }).name);
        }
      },
      (error) =>
        error instanceof ApiError && error.reason === "WatchLineTooLong" &&
        error.message === "Watch /api/v1/configmaps: a watch event is longer than the limit of " +
            "4 KiB (maxWatchLineBytes = 4096); raise the limit or watch fewer fields",
    );
    assert.deepEqual(names, ["a"]);
  } finally {
    client.close();
    await server.shutdown();
  }
});
