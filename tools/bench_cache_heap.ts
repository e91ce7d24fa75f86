/**
 * `deno task bench:heap`: heap per cached object, by type and by cache transform, without a
 * control plane. Each object is made the way the operator's caches receive it: the JSON text of
 * a realistic object (server metadata, `managedFields`, a Database's status and the
 * `last-applied-configuration` that `kubectl apply` adds), with names and UIDs unique per
 * object, parsed with `JSON.parse` as the client does (so every string is fresh), transformed
 * and inserted into a {@linkcode Store}. Heap is measured after a full GC before and after.
 *
 * @module
 */
import { type KubeObject, objectKey } from "../src/runtime/client/mod.ts";
import { Store, stripManagedFields } from "../src/runtime/cache/mod.ts";
import { projectDatabase } from "../src/database/api/database_projection.ts";
import { projectSecret } from "../src/database/credentials/secret_projection.ts";
import { projectService } from "../src/database/services/service_projection.ts";
import { projectStatefulSet } from "../src/database/instances/statefulset_projection.ts";
import { desiredSecret, generatePassword } from "../src/database/credentials/secret.ts";
import { desiredPodsService, desiredService } from "../src/database/services/service.ts";
import { desiredStatefulSet } from "../src/database/instances/statefulset.ts";
import { desiredStatus } from "../src/database/status/status.ts";
import type { Database } from "../src/database/api/types.ts";
import { LOAD_SPEC } from "./load/workload.ts";
import { taskArgs } from "./task_args.ts";

const gc = (globalThis as { gc?: () => void }).gc;
const UID = "00000000-0000-4000-8000-000000000000";
const NAME = "db-00000";

/** `managedFields` roughly as the API server writes them: one `f:` entry per field set. */
function fieldsV1(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(
    [[".", {}], ...Object.entries(value).map(([k, v]) => [`f:${k}`, fieldsV1(v)])],
  );
}

function asServed<T extends KubeObject>(object: T, manager: string, extra = {}): T {
  const { metadata, ...rest } = object;
  return {
    ...rest,
    metadata: {
      ...metadata,
      creationTimestamp: "2026-11-29T10:29:10Z",
      generation: 1,
      resourceVersion: "123456",
      uid: `${UID.slice(0, -5)}11111`,
      ...extra,
      managedFields: [{
        apiVersion: object.apiVersion,
        fieldsType: "FieldsV1",
        fieldsV1: fieldsV1(rest),
        manager,
        operation: "Apply",
        time: "2026-11-29T10:29:10Z",
      }],
    },
  } as T;
}

/** The Database as `kubectl apply` made it and the operator reported it Ready. */
function databaseTemplate(): Database {
  const applied = {
    apiVersion: "database.example.com/v1",
    kind: "Database",
    metadata: { name: NAME, namespace: "memory" },
    spec: LOAD_SPEC,
  };
  const db: Database = {
    ...applied,
    apiVersion: "database.example.com/v1",
    kind: "Database",
    metadata: {
      ...applied.metadata,
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": `${JSON.stringify(applied)}\n`,
      },
      uid: UID,
      generation: 1,
    },
  };
  db.status = desiredStatus(db, {
    kind: "deployed",
    replicas: 1,
    statefulSet: {
      metadata: { generation: 1 },
      status: { observedGeneration: 1, readyReplicas: 1, updatedReplicas: 1 },
    },
  }, new Date("2026-11-29T10:29:12Z"));
  return asServed(db, "kubectl-client-side-apply", { uid: UID });
}

/** One type's objects: the template's JSON text with a unique name and UID per object. */
function* objects(template: KubeObject, count: number): Generator<KubeObject> {
  const text = JSON.stringify(template);
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(5, "0");
    yield JSON.parse(text.replaceAll(NAME, `db-${n}`).replaceAll("00000000", `${n}000`));
  }
}

function heapAfterGc(): number {
  gc!();
  return Deno.memoryUsage().heapUsed;
}

/** Heap per object and time per insert, into the {@linkcode Store} or (`frozen: false`) a Map. */
function measure(
  template: KubeObject,
  count: number,
  transform: (object: KubeObject) => KubeObject,
  frozen = true,
): { bytes: number; ms: number } {
  const before = heapAfterGc();
  const started = performance.now();
  const store = frozen ? new Store<KubeObject>() : new Map<string, KubeObject>();
  for (const object of objects(template, count)) {
    const cached = transform(object);
    if (store instanceof Store) store.upsert(cached);
    else store.set(objectKey(cached), cached);
  }
  const ms = performance.now() - started;
  const bytes = (heapAfterGc() - before) / count;
  if (store.size !== count) throw new Error("Objects lost");
  return { bytes, ms };
}

if (import.meta.main) {
  if (!gc) throw new Error("Run with --v8-flags=--expose-gc (deno task bench:heap does)");
  const values = taskArgs({
    task: "bench:heap",
    summary: "heap per cached Database and its objects, as the caches hold them",
    options: { count: { type: "string", default: "10000", value: "N", help: "Databases" } },
  });
  const count = Number(values.count);
  const db = databaseTemplate();
  const operator = "postgres-operator";
  const templates = {
    Database: db,
    Secret: asServed(desiredSecret(db, LOAD_SPEC, generatePassword()), operator),
    Service: asServed(desiredService(db), operator),
    "Service (pods)": asServed(desiredPodsService(db), operator),
    StatefulSet: asServed(
      desiredStatefulSet(db, LOAD_SPEC, undefined, "0123456789abcdef"),
      operator,
    ),
  } satisfies Record<string, KubeObject>;
  const untyped = <T extends KubeObject>(f: (o: T) => T) =>
    f as unknown as (o: KubeObject) => KubeObject;
  const projections: Record<keyof typeof templates, (o: KubeObject) => KubeObject> = {
    Database: untyped(projectDatabase),
    Secret: untyped(projectSecret),
    Service: untyped(projectService),
    "Service (pods)": untyped(projectService),
    StatefulSet: untyped(projectStatefulSet),
  };
  measure(templates.StatefulSet, count, stripManagedFields); // JIT warm-up
  let total = 0;
  for (const [type, template] of Object.entries(templates)) {
    const stripped = measure(template, count, stripManagedFields);
    const projected = measure(template, count, projections[type as keyof typeof templates]);
    total += projected.bytes;
    console.log(
      `${type.padEnd(15)} JSON ${JSON.stringify(template).length} B; heap per object: ` +
        `managedFields stripped ${(stripped.bytes / 1024).toFixed(2)} KiB, ` +
        `cache transform ${(projected.bytes / 1024).toFixed(2)} KiB ` +
        `(${((projected.ms * 1000) / count).toFixed(1)} µs per object)`,
    );
  }
  const unfrozen = measure(templates.StatefulSet, count, projections.StatefulSet, false);
  const frozen = measure(templates.StatefulSet, count, projections.StatefulSet);
  console.log(
    `deep-freeze on insert, StatefulSet: ${(frozen.bytes - unfrozen.bytes).toFixed(0)} B ` +
      `of heap and ${(((frozen.ms - unfrozen.ms) * 1000) / count).toFixed(1)} µs per object`,
  );
  console.log(
    `per Database and its 4 owned objects: ${(total / 1024).toFixed(2)} KiB; ` +
      `${count} of them: ${((total * count) / 1048576).toFixed(1)} MiB of heap`,
  );
}
