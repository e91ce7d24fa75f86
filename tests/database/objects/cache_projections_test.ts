import assert from "node:assert/strict";
import { hasUpdateEntry, isSubset } from "../../../src/runtime/client/mod.ts";
import { projectDatabase } from "../../../src/database/api/database_projection.ts";
import { projectService } from "../../../src/database/services/service_projection.ts";
import { projectStatefulSet } from "../../../src/database/instances/statefulset_projection.ts";
import {
  desiredPodsService,
  desiredReadOnlyService,
  desiredService,
} from "../../../src/database/services/service.ts";
import {
  desiredStatefulSet,
  type StatefulSet,
} from "../../../src/database/instances/statefulset.ts";
import type { Database, DatabaseSpec } from "../../../src/database/api/types.ts";

const spec: DatabaseSpec = {
  image: "postgres:17",
  replicas: 2,
  databaseName: "app",
  username: "app",
  storage: { size: "10Gi", storageClass: "fast" },
  resources: { limits: { cpu: "1", "nvidia.com/gpu": 1 }, requests: { memory: "1Gi" } },
};
const db: Database = { metadata: { name: "d", namespace: "n", uid: "u-1" }, spec };

/** Reads or writes a nested field by a dotted path (array indexes as numbers). */
function at(object: unknown, path: string, value?: unknown): unknown {
  const keys = path.split(".");
  let node = object as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (value !== undefined) node[last] = value;
  return node[last];
}

/** What the API server returns: ours plus defaults, status and managedFields. */
function live(): StatefulSet {
  const sts = structuredClone(desiredStatefulSet(db, spec));
  at(sts, "metadata.resourceVersion", "7");
  at(sts, "metadata.generation", 3);
  at(sts, "metadata.managedFields", [{
    manager: "postgres-operator",
    operation: "Update",
    apiVersion: "apps/v1",
    time: "2026-11-29T10:29:10Z",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:spec": { "f:replicas": {} } },
  }, {
    manager: "kube-controller-manager",
    operation: "Update",
    subresource: "status",
    fieldsV1: { "f:status": { "f:replicas": {} } },
  }]);
  at(sts, "spec.revisionHistoryLimit", 10);
  at(sts, "spec.template.spec.dnsPolicy", "ClusterFirst");
  at(sts, "spec.template.spec.containers.0.terminationMessagePath", "/dev/termination-log");
  at(sts, "spec.template.spec.containers.0.readinessProbe.successThreshold", 1);
  sts.status = {
    observedGeneration: 3,
    replicas: 2,
    readyReplicas: 2,
    updatedReplicas: 2,
    currentRevision: "r",
  };
  return sts;
}

Deno.test("projectStatefulSet() drops server defaults but never changes a drift decision", () => {
  const desired = desiredStatefulSet(db, spec);
  const pruned = projectStatefulSet(live());
  assert.equal(isSubset(desired, live()), true);
  assert.equal(isSubset(desired, pruned), true);
  assert.equal(at(pruned, "spec.revisionHistoryLimit"), undefined);
  assert.equal(at(pruned, "spec.template.spec.dnsPolicy"), undefined);
  // Who wrote it how, not what: enough to know the operator's POST still owns fields.
  assert.deepEqual(at(pruned, "metadata.managedFields"), [
    { manager: "postgres-operator", operation: "Update" },
    { manager: "kube-controller-manager", operation: "Update", subresource: "status" },
  ]);
  assert.equal(hasUpdateEntry(pruned, "postgres-operator"), true);
  assert.equal(hasUpdateEntry(pruned, "kube-controller-manager"), false);
  assert.deepEqual(at(pruned, "spec.template.spec.containers.0.resources"), spec.resources);
  assert.equal(at(pruned, "status.readyReplicas"), 2);
  assert.equal(at(pruned, "status.currentRevision"), undefined);
  const edited = live();
  at(edited, "spec.replicas", 5);
  assert.equal(isSubset(desired, projectStatefulSet(edited)), false);
  const reimaged = live();
  at(reimaged, "spec.template.spec.containers.0.image", "postgres:16");
  assert.equal(isSubset(desired, projectStatefulSet(reimaged)), false);
});

Deno.test("projectService() keeps what the three Services set, and drops server defaults", () => {
  for (const desired of [desiredService, desiredReadOnlyService, desiredPodsService]) {
    const service = structuredClone(desired(db));
    at(service, "spec.sessionAffinity", "None");
    const pruned = projectService(service);
    assert.equal(isSubset(desired(db), pruned), true, desired.name);
    assert.equal(at(pruned, "spec.sessionAffinity"), undefined);
  }
  // The headless Service's clusterIP is ours to compare.
  assert.equal(at(projectService(desiredPodsService(db)), "spec.clusterIP"), "None");
});

Deno.test("projectDatabase() keeps what the reconciler, the schedule and metrics read, not kubectl's copy", () => {
  const applied = { apiVersion: "database.example.com/v1", kind: "Database", spec };
  const served: Database = {
    apiVersion: "database.example.com/v1",
    kind: "Database",
    metadata: {
      name: "d",
      namespace: "n",
      uid: "u-1",
      resourceVersion: "9",
      generation: 2,
      creationTimestamp: "2026-11-29T10:29:10Z",
      deletionTimestamp: "2026-11-29T11:00:00Z",
      labels: { team: "a" },
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": JSON.stringify(applied),
        "team.example.com/owner": "b",
      },
      finalizers: ["database.example.com/finalizer"],
      managedFields: [{ manager: "kubectl-client-side-apply" }],
    },
    spec: { ...spec, environment: "production" },
    status: {
      phase: "Ready",
      ready: true,
      readyReplicas: 2,
      observedGeneration: 2,
      conditions: [{
        type: "Ready",
        status: "True",
        observedGeneration: 2,
        lastTransitionTime: "2026-11-29T10:30:00Z",
        reason: "DatabaseReady",
        message: "All 2 replicas are ready",
      }],
    },
  };
  const cached = projectDatabase(structuredClone(served));
  // The creation time stays: the first scheduled Backup counts from it.
  const { managedFields: _, ...metadata } = served.metadata;
  assert.deepEqual(cached, {
    ...served,
    metadata: { ...metadata, annotations: { "team.example.com/owner": "b" } },
  });
});

Deno.test("projectDatabase() leaves no empty annotations behind kubectl's copy", () => {
  const cached = projectDatabase({
    metadata: {
      name: "d",
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
    },
    spec,
  });
  assert.deepEqual(cached.metadata, { name: "d" });
});
