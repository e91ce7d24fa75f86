import assert from "node:assert/strict";
import { runLoadtest } from "../../tools/loadtest.ts";

// The course's Exercise 5 at N = 50, as CI runs it: every Database must become Ready, and neither
// a quiet period nor a restart over converged Databases may send writes. No timing asserts.
Deno.test("loadtest: 50 Databases become Ready; steady state and restart send no writes", async () => {
  const result = await runLoadtest({
    count: 50,
    namespace: "loadtest-ci",
    concurrency: 25,
    keep: false,
    operatorArgs: ["--kube-api-qps=0"],
    steadySeconds: 5,
    restart: true,
    timeoutSeconds: 300,
  });
  console.log(JSON.stringify(result));
  assert.deepEqual(result.phases, { Ready: 50 });
  const steady = result.steadyState as { writes: number; reconciles: number };
  assert.equal(steady.writes, 0);
  assert.equal(steady.reconciles, 0);
  const restart = result.restart as { writes: number; reconciles: number };
  assert.equal(restart.writes, 0);
  assert.ok(restart.reconciles >= 50, "the restarted operator reconciled every Database");
});
