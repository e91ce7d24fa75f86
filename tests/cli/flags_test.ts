import assert from "node:assert/strict";
import { parseFlags, UsageError } from "../../src/cli/flags.ts";

Deno.test("parseFlags() applies controller-runtime's and the course's defaults", () => {
  const f = parseFlags([]);
  assert.equal(f.metricsBindAddress, ":8443");
  assert.equal(f.metricsSecure, true);
  assert.equal(f.healthProbeBindAddress, ":8081");
  assert.equal(f.leaderElect, false);
  assert.equal(f.leaderElectionId, "postgres-operator.example.com");
  assert.equal(f.maxConcurrentReconciles, 2);
  assert.equal(f.kubeApiQps, 50);
  assert.equal(f.kubeApiBurst, 100);
  assert.deepEqual([f.leaseDurationMs, f.renewDeadlineMs, f.retryPeriodMs], [
    15_000,
    10_000,
    2_000,
  ]);
});

Deno.test("parseFlags() takes Go-style booleans and values", () => {
  const f = parseFlags([
    "--leader-elect",
    "--metrics-secure=false",
    "--kube-api-qps=0",
    "--max-concurrent-reconciles",
    "8",
    "--namespace=team-a",
  ]);
  assert.equal(f.leaderElect, true);
  assert.equal(f.metricsSecure, false);
  assert.equal(f.kubeApiQps, 0);
  assert.equal(f.maxConcurrentReconciles, 8);
  assert.equal(f.namespace, "team-a");
});

Deno.test("parseFlags() refuses bad input with one line naming the flag", () => {
  for (
    const [args, pattern] of [
      [["--bogus"], /bogus/],
      [["--kube-api-qps=fast"], /--kube-api-qps must be a number/],
      [["--max-concurrent-reconciles=0"], /--max-concurrent-reconciles/],
      [["--kube-api-burst=0"], /--kube-api-burst must be a number >= 1, got "0"/],
      [["--kube-api-burst=2.5"], /--kube-api-burst must be a whole number/],
      [["--max-concurrent-reconciles=1.5"], /whole number/],
      [["--metrics-secure=maybe"], /--metrics-secure must be true or false/],
      [["--zap-log-level=loud"], /--zap-log-level/],
      [["--leader-elect-renew-deadline=20"], /renew-deadline/],
    ] as const
  ) {
    assert.throws(() => parseFlags([...args]), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
});
