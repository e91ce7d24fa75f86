import assert from "node:assert/strict";
import { Logger, type LoggerOptions } from "../../../src/runtime/observability/logger.ts";
import { encodeTime, errorText } from "../../../src/runtime/observability/log_encoding.ts";

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const logger = new Logger({ format: "json", ...options, write: (line) => lines.push(line) });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

Deno.test("Logger writes controller-runtime's JSON keys with fields from child loggers", () => {
  const { logger, records } = capture();
  logger.child({ controller: "database" }).info("Starting workers", { workers: 2 });
  const [record] = records();
  assert.equal(record?.level, "info");
  assert.equal(record?.msg, "Starting workers");
  assert.equal(record?.controller, "database");
  assert.equal(record?.workers, 2);
  assert.match(String(record?.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(record?.stacktrace, undefined);
});

Deno.test("Logger treats an integer level as zap verbosity: -2 shows debug lines", () => {
  const verbose = capture({ level: -2 });
  verbose.logger.debug("shown");
  const quiet = capture({ level: "info" });
  quiet.logger.debug("hidden");
  assert.equal(verbose.records().length, 1);
  assert.equal(quiet.records().length, 0);
  assert.ok(verbose.logger.enabled("debug"));
  assert.ok(!quiet.logger.enabled("debug"));
});

Deno.test("Logger keeps an error's causes and adds a stacktrace at error level", () => {
  const { logger, records } = capture();
  const root = new Error("connection refused");
  logger.error("Reconciler error", { error: new Error("GET /api failed", { cause: root }) });
  logger.warn("Retrying", { error: root });
  const [error, warn] = records();
  assert.equal(error?.error, "GET /api failed: connection refused");
  assert.match(
    String(error?.stacktrace),
    /GET \/api failed[\s\S]*Caused by: Error: connection refused/,
  );
  assert.equal(warn?.error, "connection refused");
  assert.equal(warn?.stacktrace, undefined);
});

Deno.test("Logger honours a lower stacktrace level with the caller's stack when no error is logged", () => {
  const { logger, records } = capture({ stacktraceLevel: "warn" });
  logger.warn("Slow");
  const stack = String(records()[0]?.stacktrace);
  assert.match(stack.split("\n")[0]!, /logger_test\.ts/);
});

Deno.test("Logger writes zap's console layout: time, level, message and fields as JSON, tab-separated", () => {
  const { logger, lines } = capture({ format: "console", timeEncoding: "epoch" });
  logger.info("Connected", { server: "https://x" });
  const [ts, level, msg, fields] = lines[0]!.split("\t");
  assert.ok(Number(ts) > 1_700_000_000);
  assert.equal(level, "INFO");
  assert.equal(msg, "Connected");
  assert.deepEqual(JSON.parse(fields!), { server: "https://x" });
});

Deno.test("encodeTime() renders each of zap's six time encodings", () => {
  const ms = Date.UTC(2026, 10, 29, 8, 0, 1, 250);
  assert.equal(encodeTime(ms, "epoch"), ms / 1000);
  assert.equal(encodeTime(ms, "millis"), ms);
  assert.equal(encodeTime(ms, "nano"), ms * 1_000_000);
  assert.equal(encodeTime(ms, "iso8601"), "2026-11-29T08:00:01.250Z");
  assert.equal(encodeTime(ms, "rfc3339"), "2026-11-29T08:00:01Z");
  assert.equal(encodeTime(ms, "rfc3339nano"), "2026-11-29T08:00:01.25Z");
  assert.equal(encodeTime(Date.UTC(2026, 0, 1), "rfc3339nano"), "2026-01-01T00:00:00Z");
});

Deno.test("errorText() does not repeat a cause the message already names", () => {
  const cause = new Error("timeout");
  assert.equal(errorText(new Error("watch broke: timeout", { cause })), "watch broke: timeout");
  assert.equal(errorText("plain"), "plain");
});
