/**
 * KubeClient's client-side rate limit (`--kube-api-qps`/`--kube-api-burst`) on virtual time,
 * against a real HTTP server on loopback: requests are spaced at the rate, and one whose wait
 * would pass its deadline fails at once without taking a token.
 */
import assert from "node:assert/strict";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import { ApiError } from "../../../src/runtime/client/api_error.ts";
import { FakeClock } from "../fake_clock.ts";
import { isPending } from "../helpers.ts";

/** A server that counts requests and lets a test wait until it has seen `n`. */
function countingServer() {
  let count = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    count++;
    for (const w of waiters.filter((w) => count >= w.n)) w.resolve();
    return Response.json({ gitVersion: "v1.36.3" });
  });
  return {
    server,
    url: `http://127.0.0.1:${server.addr.port}`,
    count: () => count,
    reached: (n: number) =>
      count >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
  };
}

Deno.test("KubeClient holds requests to its QPS: one per 1/qps after the burst, on virtual time", async () => {
  const clock = new FakeClock();
  const api = countingServer();
  const qps = 20;
  const client = new KubeClient(
    { server: api.url, namespace: "x", source: "test" },
    { qps, burst: 1, clock },
  );
  try {
    const requests = Array.from({ length: 10 }, () => client.request("GET", "/version"));
    await api.reached(1); // The burst.
    for (let n = 2; n <= 10; n++) {
      clock.advance(1000 / qps - 1);
      assert.equal(await isPending(api.reached(n)), true, `request ${n} went early`);
      clock.advance(1);
      await api.reached(n);
      assert.equal(api.count(), n, "exactly one more per 1/qps");
    }
    await Promise.all(requests);
    assert.equal(clock.now(), 9 * 1000 / qps);
  } finally {
    client.close();
    await api.server.shutdown();
  }
});

Deno.test("KubeClient fails a request at once, sending nothing, when the rate limit would hold it past its deadline", async () => {
  const clock = new FakeClock();
  const api = countingServer();
  const codes: string[] = [];
  const client = new KubeClient(
    { server: api.url, namespace: "x", source: "test" },
    { qps: 1, burst: 1, clock, timeoutMs: 1_500, observer: (_m, code) => codes.push(code) },
  );
  try {
    await client.request("GET", "/version"); // The burst.
    const second = client.request("GET", "/version"); // Its token is due in 1 s: within 1.5 s.
    const third = client.request("GET", "/version"); // Due in 2 s: past its deadline.
    await assert.rejects(
      third,
      (error) => error instanceof ApiError && error.reason === "ClientRateLimited",
    );
    assert.equal(clock.now(), 0, "the third failed without waiting");
    clock.advance(1_000);
    await second;
    assert.equal(api.count(), 2);
    assert.deepEqual(codes, ["200", "200"], "a request refused by the limiter is not counted");
    // The refusal left no debt: the next request waits only for its own token.
    const fourth = client.request("GET", "/version");
    clock.advance(1_000);
    await fourth;
  } finally {
    client.close();
    await api.server.shutdown();
  }
});
