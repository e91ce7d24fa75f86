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
      [["--health-probe-bind-address=1.2.3.4:99999"], /--health-probe-bind-address: .*99999/],
      [["--metrics-bind-address=nonsense::"], /--metrics-bind-address: .*nonsense::/],
      [["--metrics-bind-address=localhost"], /--metrics-bind-address/],
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

Deno.test("parseFlags() takes --zap-log-level as a name or as controller-runtime's verbosity integer", () => {
  assert.equal(parseFlags(["--zap-log-level=2"]).logLevel, -2);
  assert.equal(parseFlags(["--zap-log-level", "1"]).logLevel, -1);
  assert.equal(parseFlags(["--zap-log-level=DEBUG"]).logLevel, "debug");
  assert.equal(parseFlags(["--zap-log-level=panic"]).logLevel, "panic");
  assert.equal(parseFlags([]).logLevel, "info");
  for (const bad of ["0", "-1", "loud", "1.5"]) {
    assert.throws(() => parseFlags([`--zap-log-level=${bad}`]), /--zap-log-level must be/);
  }
});

Deno.test("parseFlags() applies --zap-devel defaults unless a zap flag says otherwise", () => {
  const production = parseFlags([]);
  assert.deepEqual(
    [production.zapDevel, production.logLevel, production.stacktraceLevel, production.logFormat],
    [false, "info", "error", undefined],
  );
  const devel = parseFlags(["--zap-devel"]);
  assert.deepEqual([devel.logLevel, devel.stacktraceLevel, devel.logFormat], [
    "debug",
    "warn",
    "console",
  ]);
  const mixed = parseFlags(["--zap-devel=true", "--zap-encoder=json", "--zap-log-level=info"]);
  assert.deepEqual([mixed.logLevel, mixed.logFormat], ["info", "json"]);
  assert.equal(parseFlags(["--zap-devel=false"]).logFormat, undefined);
});

Deno.test("parseFlags() takes --zap-encoder, --zap-stacktrace-level and --zap-time-encoding, with --log-format as an alias", () => {
  const f = parseFlags([
    "--zap-encoder=console",
    "--zap-stacktrace-level=panic",
    "--zap-time-encoding=epoch",
  ]);
  assert.deepEqual([f.logFormat, f.stacktraceLevel, f.timeEncoding], ["console", "panic", "epoch"]);
  assert.equal(parseFlags(["--log-format=text"]).logFormat, "console");
  assert.equal(parseFlags(["--log-format=json"]).logFormat, "json");
  assert.equal(parseFlags([]).timeEncoding, "rfc3339");
  for (
    const [args, pattern] of [
      [["--zap-encoder=yaml"], /--zap-encoder must be json or console/],
      [["--zap-stacktrace-level=3"], /--zap-stacktrace-level must be one of/],
      [["--zap-time-encoding=unix"], /--zap-time-encoding must be one of/],
      [["--zap-encoder=json", "--log-format=text"], /contradicts/],
    ] as const
  ) {
    assert.throws(() => parseFlags([...args]), pattern);
  }
});

Deno.test("parseFlags() takes the `--` that `deno task start -- …` passes through", () => {
  const f = parseFlags(["--", "--kubeconfig", "/tmp/kc", "--leader-elect"]);
  assert.equal(f.kubeconfig, "/tmp/kc");
  assert.equal(f.leaderElect, true);
  // Only a leading one: a `--` later is still refused with the usual message.
  assert.throws(() => parseFlags(["--leader-elect", "--", "x"]), UsageError);
});
