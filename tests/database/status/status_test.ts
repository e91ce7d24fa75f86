import assert from "node:assert/strict";
import { desiredStatus, statusChanged } from "../../../src/database/status/status.ts";
import { needsReconcile } from "../../../src/database/reconcile/controller.ts";
import type { StatefulSet } from "../../../src/database/instances/statefulset.ts";
import type { Condition, Database } from "../../../src/database/api/types.ts";

const NOW = new Date("2025-01-02T03:04:05.678Z");
const LATER = new Date("2025-01-02T04:00:00.000Z");

function database(status?: Database["status"]): Database {
  return {
    apiVersion: "database.example.com/v1",
    kind: "Database",
    metadata: { name: "db", namespace: "ns", uid: "uid-db", generation: 3 },
    spec: {
      image: "postgres:17",
      replicas: 1,
      databaseName: "mydb",
      username: "admin",
      storage: { size: "10Gi" },
    },
    ...(status ? { status } : {}),
  } as Database;
}

function statefulSet(ready: number, observed = 1): StatefulSet {
  return {
    metadata: { name: "db", namespace: "ns", generation: 1 },
    status: { observedGeneration: observed, readyReplicas: ready, updatedReplicas: ready },
  } as StatefulSet;
}

const byType = (conditions: Condition[] | undefined) =>
  Object.fromEntries((conditions ?? []).map((c) => [c.type, c]));

Deno.test("desiredStatus(): a StatefulSet with every replica ready is Ready", () => {
  const status = desiredStatus(
    database(),
    { kind: "deployed", statefulSet: statefulSet(1), replicas: 1 },
    NOW,
  );
  assert.equal(status.phase, "Ready");
  assert.equal(status.ready, true);
  assert.equal(status.readyReplicas, 1);
  assert.equal(status.endpoint, "db.ns.svc:5432");
  assert.equal(status.secretName, "db-credentials");
  assert.equal(status.observedGeneration, 3);
  const c = byType(status.conditions);
  assert.equal(c.Ready?.status, "True");
  assert.equal(c.Ready?.reason, "DatabaseReady");
  assert.equal(c.Ready?.lastTransitionTime, "2025-01-02T03:04:05Z");
  assert.equal(c.Ready?.observedGeneration, 3);
  assert.equal(c.Progressing?.status, "False");
  assert.equal(c.Degraded?.status, "False");
  assert.equal(c.Replicating, undefined, "no standbys, no Replicating condition");
});

Deno.test("desiredStatus(): replicas not ready, or a StatefulSet not caught up, is Creating", () => {
  for (const sts of [statefulSet(0), statefulSet(1, 0), undefined]) {
    const status = desiredStatus(
      database(),
      { kind: "deployed", statefulSet: sts, replicas: 1 },
      NOW,
    );
    assert.equal(status.phase, "Creating");
    assert.equal(status.ready, false);
    const c = byType(status.conditions);
    assert.equal(c.Ready?.reason, "Creating");
    assert.equal(c.Progressing?.reason, "RollingOut");
    assert.match(c.Progressing?.message ?? "", /\/1 replicas ready/);
  }
});

Deno.test("desiredStatus(): a condition's transition time moves only when its status changes", () => {
  const first = desiredStatus(
    database(),
    { kind: "deployed", statefulSet: statefulSet(1), replicas: 1 },
    NOW,
  );
  const same = desiredStatus(
    database(first),
    { kind: "deployed", statefulSet: statefulSet(1), replicas: 1 },
    LATER,
  );
  assert.equal(byType(same.conditions).Ready?.lastTransitionTime, "2025-01-02T03:04:05Z");
  assert.equal(statusChanged(database(first), same), false, "nothing to write");
  const lost = desiredStatus(
    database(first),
    { kind: "deployed", statefulSet: statefulSet(0), replicas: 1 },
    LATER,
  );
  assert.equal(byType(lost.conditions).Ready?.lastTransitionTime, "2025-01-02T04:00:00Z");
  assert.equal(statusChanged(database(first), lost), true);
});

Deno.test("desiredStatus(): an invalid spec is Failed and Degraded", () => {
  const status = desiredStatus(
    database({ readyReplicas: 1 } as Database["status"]),
    { kind: "invalid", reason: "InvalidSpec", message: "replicas: too many" },
    NOW,
  );
  assert.equal(status.phase, "Failed");
  assert.equal(status.ready, false);
  assert.equal(status.readyReplicas, 1, "what is running is still reported");
  const c = byType(status.conditions);
  assert.deepEqual(
    [c.Ready?.status, c.Progressing?.status, c.Degraded?.status],
    ["False", "False", "True"],
  );
  assert.equal(c.Degraded?.message, "replicas: too many");
});

Deno.test("desiredStatus(): an API error keeps a Ready Database Ready and reports Degraded", () => {
  const ready = desiredStatus(
    database(),
    { kind: "deployed", statefulSet: statefulSet(1), replicas: 1 },
    NOW,
  );
  const status = desiredStatus(
    database(ready),
    { kind: "error", reason: "ApiError", message: "etcd timeout" },
    LATER,
  );
  assert.equal(status.phase, "Ready");
  assert.equal(status.ready, true);
  const c = byType(status.conditions);
  assert.deepEqual(c.Ready, byType(ready.conditions).Ready, "Ready is carried over as it was");
  assert.equal(c.Progressing?.reason, "Retrying");
  assert.equal(c.Degraded?.reason, "ApiError");
  const fresh = desiredStatus(database(), { kind: "error", reason: "ApiError", message: "x" }, NOW);
  assert.equal(fresh.phase, "Creating");
  assert.equal(byType(fresh.conditions).Ready?.reason, "Reconciling");
});

Deno.test("desiredStatus(): a conflict, a pod problem or a storage problem is Degraded, in that order", () => {
  const observe = (extra: object) =>
    byType(
      desiredStatus(
        database(),
        { kind: "deployed", statefulSet: statefulSet(1), replicas: 1, ...extra },
        NOW,
      ).conditions,
    );
  const conflict = observe({
    conflict: "Secret db-credentials belongs to someone else",
    podProblem: { reason: "ImagePullBackOff", message: "no such image" },
  });
  assert.equal(conflict.Degraded?.reason, "ResourceExists");
  assert.equal(conflict.Ready?.status, "False", "not Ready while a name is someone else's");
  const pod = observe({ podProblem: { reason: "ImagePullBackOff", message: "no such image" } });
  assert.equal(pod.Degraded?.reason, "ImagePullBackOff");
  assert.equal(pod.Ready?.reason, "ImagePullBackOff");
  const lost = observe({
    podProblem: { reason: "ImagePullBackOff", message: "no such image" },
    primaryProblem: { reason: "NodeLost", message: "no standby to take over" },
  });
  assert.equal(lost.Ready?.reason, "NodeLost", "a lost primary comes before what pods say");
  assert.equal(lost.Degraded?.reason, "NodeLost");
  const storage = observe({ storageProblem: "cannot grow" });
  assert.equal(storage.Degraded?.reason, "StorageResizeUnsupported");
  assert.equal(storage.Ready?.status, "True", "a volume that cannot grow does not stop service");
});

Deno.test("desiredStatus(): standbys report whether they stream", () => {
  const observe = (streaming: number) =>
    desiredStatus(
      database(),
      { kind: "deployed", statefulSet: statefulSet(3), replicas: 3, streamingReplicas: streaming },
      NOW,
    );
  const all = observe(2);
  assert.equal(all.streamingReplicas, 2);
  assert.equal(byType(all.conditions).Replicating?.status, "True");
  const some = observe(1);
  assert.equal(byType(some.conditions).Replicating?.status, "False");
  assert.equal(
    byType(some.conditions).Replicating?.message,
    "1/2 standbys stream from the primary",
  );
});

Deno.test("needsReconcile() skips status-only updates and passes everything else", () => {
  const before = database();
  const update = (change: (db: Database) => void) => {
    const after = structuredClone(before);
    change(after);
    return needsReconcile({ type: "updated", object: after, old: before, initial: false });
  };
  assert.equal(needsReconcile({ type: "added", object: before, initial: true }), true);
  assert.equal(needsReconcile({ type: "deleted", object: before, initial: false }), true);
  assert.equal(needsReconcile({ type: "updated", object: before, initial: false }), true);
  assert.equal(update((db) => (db.status = { phase: "Ready" } as Database["status"])), false);
  assert.equal(update((db) => (db.metadata.resourceVersion = "99")), false);
  assert.equal(update((db) => (db.metadata.generation = 4)), true);
  assert.equal(update((db) => (db.metadata.labels = { team: "a" })), true);
  assert.equal(update((db) => (db.metadata.annotations = { note: "x" })), true);
  assert.equal(update((db) => (db.metadata.finalizers = ["x"])), true);
  assert.equal(update((db) => (db.metadata.deletionTimestamp = NOW.toISOString())), true);
});
