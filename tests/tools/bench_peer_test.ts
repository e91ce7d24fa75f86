import assert from "node:assert/strict";
import { runPeerBench } from "../../tools/bench_peer.ts";

// The side-by-side benchmark at tiny N, in its ABBA order on one `cluster` control plane: both
// operators must bring every Database to Ready, and the report must carry what the benchmark
// prints. No timing asserts.
Deno.test("runPeerBench() brings 5 Databases to Ready with ours and the controller-runtime peer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const chart = `${dir}/peer.svg`;
    const report = await runPeerBench({
      count: 5,
      concurrency: 5,
      maxConcurrentReconciles: 2,
      floor: false,
      chart,
      timeoutSeconds: 300,
    });
    assert.deepEqual(report.runs.map((r) => `${r.operator} #${r.run}`), [
      "peer #1",
      "ours #2",
      "ours #3",
      "peer #4",
    ]);
    for (const run of report.runs) {
      assert.equal(run.readySeconds.length, 5, `${run.operator} #${run.run}: all 5 Ready`);
      assert.ok(run.allReadySeconds > 0);
      assert.ok(run.requests.total >= 5 * 4, `${run.operator} wrote at least 4 objects each`);
      assert.ok((run.requests.byMethod.POST ?? 0) >= 5, `${run.operator} created objects`);
      assert.ok(run.rssMiB > 0 && run.peakRssMiB >= run.rssMiB);
    }
    const s = report.summary;
    for (
      const value of [
        s.oursMedianSeconds,
        s.peerMedianSeconds,
        s.oursOverPeer,
        s.oursRequestsPerDatabase,
        s.peerRequestsPerDatabase,
        s.oursRssMiB,
        s.peerRssMiB,
      ]
    ) {
      assert.ok(Number.isFinite(value) && value > 0);
    }
    assert.equal(s.oursOverFloor, undefined, "no floor was asked for");
    const svg = await Deno.readTextFile(chart);
    for (const name of ["peer #1", "ours #2", "ours #3", "peer #4"]) assert.ok(svg.includes(name));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
