import assert from "node:assert/strict";
import { CORE, type KubeObject } from "../../../src/runtime/client/mod.ts";
import { Manager } from "../../../src/runtime/controller/manager.ts";
import {
  type Request,
  type Result,
  TerminalError,
} from "../../../src/runtime/controller/reconcile.ts";
import { Logger } from "../../../src/runtime/observability/logger.ts";
import { RuntimeMetrics } from "../../../src/runtime/observability/metrics.ts";
import { DATABASE_RESOURCE } from "../../../src/database/api/types.ts";
import { FakeClock } from "../fake_clock.ts";
import { runFor, runUntil, settle } from "../virtual_time.ts";
import { FakeApi } from "./fake_api.ts";

const quiet = () => new Logger({ format: "json", level: "error", write: () => {} });

const database = (name: string): KubeObject => ({
  apiVersion: "database.example.com/v1",
  kind: "Database",
  metadata: { name, namespace: "ns", uid: `uid-${name}` },
});

const secretOwnedBy = (owner: string, apiVersion = "database.example.com/v1"): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name: "credentials",
    namespace: "ns",
    uid: "uid-secret",
    ownerReferences: [
      { apiVersion, kind: "Database", name: owner, uid: `uid-${owner}`, controller: true },
    ],
  },
});

/** A manager on virtual time with one controller for Databases that own Secrets. */
function setup(api: FakeApi, reconcile: (request: Request) => Promise<Result | unknown>) {
  const clock = new FakeClock();
  const metrics = new RuntimeMetrics();
  const manager = new Manager({ client: api.client, logger: quiet(), clock, metrics });
  const controller = manager.controller({
    name: "database",
    for: manager.informer(DATABASE_RESOURCE),
    owns: [manager.informer(CORE.secrets)],
    maxConcurrentReconciles: 1,
    reconcile: async (request) => {
      const result = await reconcile(request);
      return typeof result === "object" ? result as Result : undefined;
    },
  });
  const stop = new AbortController();
  const running = manager.start(stop.signal);
  return {
    clock,
    metrics,
    controller,
    running,
    async stop() {
      stop.abort();
      await runFor(clock, 100);
      await running;
    },
  };
}

Deno.test("an owner reference with another version of the owner's group still queues it", async () => {
  const api = new FakeApi();
  api.add(DATABASE_RESOURCE, database("a"));
  api.add(CORE.secrets);
  const seen: string[] = [];
  const run = setup(api, ({ key }) => Promise.resolve(seen.push(key)));
  await runUntil(run.clock, () => seen.length === 1, 1_000);
  api.emit(CORE.secrets, "ADDED", secretOwnedBy("a", "database.example.com/v1beta1"));
  await runUntil(run.clock, () => seen.length === 2, 1_000);
  assert.deepEqual(seen, ["ns/a", "ns/a"]);
  await run.stop();
});

Deno.test("a change of controller owner queues both the old and the new owner", async () => {
  const api = new FakeApi();
  api.add(DATABASE_RESOURCE, database("old"), database("new"));
  api.add(CORE.secrets, secretOwnedBy("old"));
  const seen: string[] = [];
  const run = setup(api, ({ key }) => Promise.resolve(seen.push(key)));
  await runUntil(run.clock, () => seen.length === 2, 1_000);
  assert.deepEqual(seen.toSorted(), ["ns/new", "ns/old"]);
  seen.length = 0;
  api.emit(CORE.secrets, "MODIFIED", secretOwnedBy("new"));
  await runUntil(run.clock, () => seen.length === 2, 1_000);
  assert.deepEqual(seen.toSorted(), ["ns/new", "ns/old"]);
  await run.stop();
});

Deno.test("requeueAfter keeps the priority the key was handed out with", async () => {
  const api = new FakeApi();
  // Listed at start-up, so both come in at low priority.
  api.add(DATABASE_RESOURCE, database("listed"), database("busy"));
  api.add(CORE.secrets);
  const seen: string[] = [];
  const busy = Promise.withResolvers<void>();
  const run = setup(api, ({ name }) => {
    seen.push(name);
    if (name === "listed" && seen.length === 1) return Promise.resolve({ requeueAfterMs: 1_000 });
    if (name === "busy") return busy.promise;
    return Promise.resolve();
  });
  await runUntil(run.clock, () => seen.length === 2, 100);
  assert.deepEqual(seen, ["listed", "busy"]);
  // While the only worker is busy, "listed" comes back from its delay, then a real change.
  await runFor(run.clock, 1_000);
  api.emit(DATABASE_RESOURCE, "ADDED", database("changed"));
  await settle();
  busy.resolve();
  await runUntil(run.clock, () => seen.length === 4, 1_000);
  // The real change (priority 0) overtakes the requeued start-up key (low priority).
  assert.deepEqual(seen, ["listed", "busy", "changed", "listed"]);
  await run.stop();
});

Deno.test("a wrapped TerminalError is not retried", async () => {
  const api = new FakeApi();
  api.add(DATABASE_RESOURCE, database("a"));
  api.add(CORE.secrets);
  let attempts = 0;
  const run = setup(api, () => {
    attempts++;
    return Promise.reject(new Error("apply failed", { cause: new TerminalError("invalid") }));
  });
  await runUntil(run.clock, () => attempts === 1, 1_000);
  await runFor(run.clock, 60_000, 1_000);
  assert.equal(attempts, 1);
  const text = await run.metrics.registry.metrics();
  assert.match(
    text,
    /controller_runtime_terminal_reconcile_errors_total\{controller="database"\} 1/,
  );
  await run.stop();
});

Deno.test("reconcile metrics exist at zero for every result from start-up", async () => {
  const api = new FakeApi();
  api.add(DATABASE_RESOURCE);
  api.add(CORE.secrets);
  const run = setup(api, () => Promise.resolve());
  const text = await run.metrics.registry.metrics();
  for (const result of ["success", "error", "requeue", "requeue_after"]) {
    assert.match(
      text,
      new RegExp(
        `controller_runtime_reconcile_total\\{controller="database",result="${result}"\\} 0`,
      ),
    );
  }
  assert.match(text, /controller_runtime_reconcile_errors_total\{controller="database"\} 0/);
  assert.match(
    text,
    /controller_runtime_terminal_reconcile_errors_total\{controller="database"\} 0/,
  );
  await run.stop();
});
