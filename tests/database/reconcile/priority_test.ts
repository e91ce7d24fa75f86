import assert from "node:assert/strict";
import { CORE, type KubeObject } from "../../../src/runtime/client/mod.ts";
import {
  databasePriority,
  environmentOf,
  PRODUCTION_PRIORITY,
  READINESS_CHANGE_PRIORITY,
} from "../../../src/database/reconcile/priority.ts";
import { Store } from "../../../src/runtime/cache/mod.ts";
import { ENVIRONMENT_INDEX } from "../../../src/database/reconcile/controller.ts";
import type { StatefulSet } from "../../../src/database/instances/statefulset.ts";
import { type Database, DATABASE_RESOURCE } from "../../../src/database/api/types.ts";

const db = (name: string, environment?: string): Database =>
  ({ metadata: { name, namespace: "ns" }, spec: environment ? { environment } : {} }) as never;
// The controller's own wiring: the priority asks the cache's spec.environment index.
const databases = new Store<Database>();
databases.indexField(ENVIRONMENT_INDEX, environmentOf);
for (const d of [db("prod", "production"), db("dev", "development"), db("plain")]) {
  databases.upsert(d);
}
const priority = databasePriority((key) =>
  databases.indexHas(ENVIRONMENT_INDEX, "production", key)
);

const sts = (ready: number, generation = 1, observed = 1): StatefulSet => ({
  metadata: { name: "x", namespace: "ns", generation },
  spec: { replicas: 1 },
  status: { observedGeneration: observed, readyReplicas: ready, updatedReplicas: 1 },
});
const update = (old: StatefulSet, object: StatefulSet) => ({
  type: "updated" as const,
  old: old as KubeObject,
  object: object as KubeObject,
  initial: false,
});

Deno.test("databasePriority() puts production Databases first and nobody else", () => {
  const added = (d: Database) => ({ type: "added" as const, object: d, initial: false });
  assert.equal(priority("ns/prod", added(databases.get("ns/prod")!), DATABASE_RESOURCE), 1);
  assert.equal(priority("ns/dev", added(databases.get("ns/dev")!), DATABASE_RESOURCE), 0);
  assert.equal(priority("ns/plain", added(databases.get("ns/plain")!), DATABASE_RESOURCE), 0);
  assert.equal(priority("ns/gone", added(db("gone")), DATABASE_RESOURCE), 0);
});

Deno.test("databasePriority() raises a StatefulSet update that flips its readiness, either way", () => {
  const becameReady = update(sts(0), sts(1));
  const lostReady = update(sts(1), sts(0));
  assert.equal(priority("ns/dev", becameReady, CORE.statefulSets), READINESS_CHANGE_PRIORITY);
  assert.equal(priority("ns/dev", lostReady, CORE.statefulSets), READINESS_CHANGE_PRIORITY);
  assert.equal(
    priority("ns/prod", becameReady, CORE.statefulSets),
    READINESS_CHANGE_PRIORITY + PRODUCTION_PRIORITY,
  );
});

Deno.test("databasePriority() leaves other owned-object events at the default", () => {
  // A new spec not yet observed is not readiness news; nor is a Service, or an addition.
  assert.equal(priority("ns/dev", update(sts(0, 1, 1), sts(0, 2, 1)), CORE.statefulSets), 0);
  assert.equal(priority("ns/dev", update(sts(0), sts(1)), CORE.services), 0);
  assert.equal(
    priority("ns/dev", { type: "added", object: sts(1), initial: false }, CORE.statefulSets),
    0,
  );
});
