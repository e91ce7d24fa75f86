import assert from "node:assert/strict";
import {
  ApiError,
  collectionPath,
  CORE,
  type KubeObject,
} from "../../../src/runtime/client/mod.ts";
import { CacheSyncTimeoutError, Manager } from "../../../src/runtime/controller/manager.ts";
import type { Request } from "../../../src/runtime/controller/reconcile.ts";
import { LeaderElector } from "../../../src/runtime/leader_election/leader_election.ts";
import { Logger } from "../../../src/runtime/observability/logger.ts";
import { setupDatabaseController } from "../../../src/database/reconcile/controller.ts";
import {
  BACKUP_RESOURCE,
  type Database,
  DATABASE_RESOURCE,
} from "../../../src/database/api/types.ts";
import { HA_OBJECT_TYPES } from "../../../src/database/ha/mod.ts";
import { JOB_RESOURCE } from "../../../src/database/backup/mod.ts";
import { FakeClock } from "../fake_clock.ts";
import { isPending } from "../helpers.ts";
import { runFor, runUntil, settle } from "../virtual_time.ts";
import { FakeLeaseLock } from "../leader_election/fake_lease_lock.ts";
import { FakeApi, hangUntilAborted, type Received } from "./fake_api.ts";

// The Database controller's other caches: the HA objects, and the Backups and their Jobs.
const HA_TYPES = [...Object.values(HA_OBJECT_TYPES), BACKUP_RESOURCE, JOB_RESOURCE];

const quiet = () => new Logger({ format: "json", level: "error", write: () => {} });

/** Log lines as parsed JSON, for tests that look at what was logged. */
function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({
    format: "json",
    level: "info",
    stacktraceLevel: "panic",
    write: (line) => lines.push(JSON.parse(line)),
  });
  return { logger, lines };
}

const configMap = (name: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "ns", uid: `uid-${name}` },
});

Deno.test("a manager whose caches cannot sync gives up after the timeout and never campaigns", async () => {
  const clock = new FakeClock();
  const api = new FakeApi();
  api.add(CORE.configMaps, configMap("synced"));
  // RBAC denies listing Secrets: this cache never syncs.
  api.failing.set(
    collectionPath(CORE.secrets),
    new ApiError(403, "Forbidden", 'secrets is forbidden: cannot list resource "secrets"'),
  );
  const lock = new FakeLeaseLock(clock);
  const elector = new LeaderElector({ lock, identity: "a", logger: quiet(), clock });
  const manager = new Manager({
    client: api.client,
    logger: quiet(),
    clock,
    leaderElector: elector,
  });
  manager.informer(CORE.configMaps);
  manager.informer(CORE.secrets);
  let reconciled = 0;
  manager.controller({
    name: "configmap",
    for: manager.informer(CORE.configMaps),
    reconcile: () => Promise.resolve(void reconciled++),
  });
  const stop = new AbortController();
  const running = manager.start(stop.signal);
  let failure: unknown;
  running.catch((error) => (failure = error));
  await runFor(clock, 119_000, 1_000);
  assert.equal(await isPending(running), true, "still waiting before the timeout");
  await runFor(clock, 1_000, 1_000);
  await runUntil(clock, () => failure !== undefined, 1_000);
  assert.ok(failure instanceof CacheSyncTimeoutError, String(failure));
  assert.deepEqual(failure.unsynced, ["v1/secrets"]);
  assert.match(failure.message, /120 s .* v1\/secrets/);
  assert.deepEqual(lock.calls, [], "the Lease was never touched");
  assert.equal(elector.isLeader, false);
  assert.equal(reconciled, 0);
  stop.abort();
});

Deno.test("the manager campaigns only after its caches have synced", async () => {
  const clock = new FakeClock();
  const api = new FakeApi();
  api.add(CORE.configMaps, configMap("a"));
  const lock = new FakeLeaseLock(clock);
  const elector = new LeaderElector({ lock, identity: "a", logger: quiet(), clock });
  const manager = new Manager({
    client: api.client,
    logger: quiet(),
    clock,
    leaderElector: elector,
  });
  const reconciled: string[] = [];
  manager.controller({
    name: "configmap",
    for: manager.informer(CORE.configMaps),
    reconcile: ({ key }: Request) => Promise.resolve(void reconciled.push(key)),
  });
  const stop = new AbortController();
  const running = manager.start(stop.signal);
  await runUntil(clock, () => reconciled.length > 0, 5_000);
  assert.equal(elector.isLeader, true);
  assert.deepEqual(reconciled, ["ns/a"]);
  assert.equal(lock.calls[0], "get");
  stop.abort();
  await runFor(clock, 100);
  await running;
  assert.equal(
    lock.store.lease?.spec?.holderIdentity,
    "",
    "released after the controllers stopped",
  );
});

const database = (name: string): Database => ({
  apiVersion: "database.example.com/v1",
  kind: "Database",
  metadata: { name, namespace: "ns", uid: `uid-${name}`, generation: 1 },
  spec: {
    image: "postgres:17",
    replicas: 1,
    databaseName: "mydb",
    username: "admin",
    storage: { size: "10Gi" },
  },
} as Database);

Deno.test("a Database reconcile hung on the API is cancelled when the grace period runs out", async () => {
  const clock = new FakeClock();
  const api = new FakeApi();
  api.add(DATABASE_RESOURCE, database("valid-db"));
  for (const type of [CORE.secrets, CORE.services, CORE.statefulSets, CORE.pods, ...HA_TYPES]) {
    api.objects.set(collectionPath(type), []);
  }
  api.handle = hangUntilAborted;
  const manager = new Manager({ client: api.client, logger: quiet(), clock });
  setupDatabaseController(manager, { instance: "test" });
  const stop = new AbortController();
  const running = manager.start(stop.signal);
  await runUntil(clock, () => api.received.length > 0, 5_000);
  stop.abort();
  await runFor(clock, 29_900, 1_000);
  assert.equal(await isPending(running), true, "the reconcile may finish within the grace period");
  await runFor(clock, 200);
  await running;
  assert.ok(api.received.length >= 2, "the Secret and the Service were asked for");
  for (const request of api.received) {
    assert.equal(request.init.signal?.aborted, true, `${request.method} ${request.path}`);
  }
});

Deno.test("every request of a Database reconcile carries the reconcile's signal", async () => {
  const clock = new FakeClock();
  const api = new FakeApi();
  // Two replicas, so the read-only Service and the pod roles are written too.
  const db = database("replicated");
  db.spec.replicas = 2;
  db.metadata.finalizers = ["database.example.com/finalizer"];
  api.add(DATABASE_RESOURCE, db);
  for (const type of [CORE.secrets, CORE.services, CORE.statefulSets, ...HA_TYPES]) {
    api.objects.set(collectionPath(type), []);
  }
  api.add(CORE.pods, {
    metadata: {
      name: "replicated-1",
      namespace: "ns",
      labels: {
        app: "database",
        database: "replicated",
        "app.kubernetes.io/managed-by": "postgres-operator",
      },
    },
  });
  const manager = new Manager({ client: api.client, logger: quiet(), clock });
  setupDatabaseController(manager, { instance: "test" });
  const stop = new AbortController();
  const running = manager.start(stop.signal);
  // The reconcile's one Event goes out after its last request (no status yet: nothing is ready).
  await runUntil(clock, () => api.received.some((r) => r.path.includes("/events")), 5_000);
  stop.abort();
  await runFor(clock, 100);
  await running;
  // Finalizer, Secret, Services, StatefulSet, pod role.
  const reconcileRequests = api.received.filter((r) => !r.path.includes("/events"));
  assert.ok(reconcileRequests.length >= 6, reconcileRequests.map(describe).join("\n"));
  const signal = reconcileRequests[0]?.init.signal;
  assert.ok(signal);
  for (const request of reconcileRequests) {
    assert.equal(request.init.signal, signal, `${describe(request)} lacks the reconcile's signal`);
  }
});

function describe({ method, path }: Received): string {
  return `${method} ${path}`;
}

Deno.test("Events still queued at shutdown are sent before start() resolves", async () => {
  const clock = new FakeClock();
  const api = new FakeApi();
  api.add(CORE.configMaps, configMap("a"));
  const sent: string[] = [];
  // Each Event takes a second to answer; four go at once.
  api.handle = ({ init }) =>
    new Promise((resolve) =>
      clock.setTimer(1_000, () => {
        sent.push((init.body as { note: string }).note);
        resolve(init.body);
      })
    );
  const manager = new Manager({ client: api.client, logger: quiet(), clock });
  const events = manager.eventRecorder({ controller: "test", instance: "test" });
  let reconciled = false;
  manager.controller({
    name: "configmap",
    for: manager.informer(CORE.configMaps),
    reconcile: () => {
      for (let i = 0; i < 10; i++) {
        events.record(configMap("a"), "Normal", `Step${i}`, "Reconcile", `step ${i}`);
      }
      reconciled = true;
      return Promise.resolve();
    },
  });
  const stop = new AbortController();
  const running = manager.start(stop.signal);
  await runUntil(clock, () => reconciled, 1_000);
  stop.abort();
  let done = false;
  running.then(() => (done = true));
  await runUntil(clock, () => done, 10_000);
  assert.equal(sent.length, 10);
  assert.equal(clock.now(), 3_000, "three rounds of four senders");
});

Deno.test("Events that cannot be sent hold up shutdown no longer than the grace period", async () => {
  const clock = new FakeClock();
  const api = new FakeApi();
  api.add(CORE.configMaps, configMap("a"));
  api.handle = hangUntilAborted;
  const { logger, lines } = capture();
  const manager = new Manager({ client: api.client, logger, clock, gracefulShutdownMs: 5_000 });
  const events = manager.eventRecorder({ controller: "test", instance: "test" });
  let reconciled = false;
  manager.controller({
    name: "configmap",
    for: manager.informer(CORE.configMaps),
    reconcile: () => {
      for (let i = 0; i < 10; i++) {
        events.record(configMap("a"), "Normal", `Step${i}`, "Reconcile", `step ${i}`);
      }
      reconciled = true;
      return Promise.resolve();
    },
  });
  const stop = new AbortController();
  const running = manager.start(stop.signal);
  await runUntil(clock, () => reconciled, 1_000);
  const stoppedAt = clock.now();
  stop.abort();
  let done = false;
  running.then(() => (done = true));
  await runUntil(clock, () => done, 60_000);
  assert.equal(clock.now() - stoppedAt, 5_000);
  assert.deepEqual(
    lines.filter((l) => l.msg === "Events not sent before shutdown").map((l) => l.dropped),
    [10],
  );
  await settle();
});
