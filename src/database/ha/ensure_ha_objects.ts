/**
 * The reconcile step for what a Database with standbys needs beside its pods: the instances'
 * ServiceAccount, Role and RoleBinding (`instance_access.ts`) and the primary's
 * PodDisruptionBudget (`disruption_budget.ts`). Each is created once (a POST) and applied
 * only when it drifts; with one instance the budget is deleted, so a single pod is never kept
 * from eviction by a stale role label (the access objects stay until the Database goes).
 *
 * @module
 */
import {
  ApiError,
  type KubeObject,
  objectPath,
  type ResourceType,
} from "../../runtime/client/mod.ts";
import { type CreatedObjects, mergeShapes, projection, shapeOf } from "../../runtime/cache/mod.ts";
import type { Database, DatabaseSpec } from "../api/mod.ts";
import {
  controlledBy,
  createOnly,
  ensureApplied,
  foreignObjectMessage,
  FULL_EXAMPLE,
  openMaps,
  type StepContext,
  WRITERS,
} from "../objects/mod.ts";
import { ACCESS_TYPES, desiredAccess } from "./instance_access.ts";
import { desiredDisruptionBudget, PDB_TYPE } from "./disruption_budget.ts";

/** The caches of the objects this step keeps, by kind. */
export interface HaObjectCaches {
  serviceAccounts: CreatedObjects<KubeObject>;
  roles: CreatedObjects<KubeObject>;
  roleBindings: CreatedObjects<KubeObject>;
  budgets: CreatedObjects<KubeObject>;
}

/** The resource types this step keeps, for the informers. */
export const HA_OBJECT_TYPES = {
  serviceAccounts: ACCESS_TYPES.serviceAccounts,
  roles: ACCESS_TYPES.roles,
  roleBindings: ACCESS_TYPES.roleBindings,
  budgets: PDB_TYPE,
} as const satisfies Record<keyof HaObjectCaches, ResourceType>;

const [ACCOUNT, ROLE, BINDING] = desiredAccess(FULL_EXAMPLE);
const { apiVersion: _a, kind: _k, metadata: _m, ...fields } = mergeAll([
  ACCOUNT!,
  ROLE!,
  BINDING!,
  desiredDisruptionBudget(FULL_EXAMPLE),
]);

/** Cache transform of these objects: metadata and the fields the operator sets. */
export const projectHaObject: (object: KubeObject) => KubeObject = projection<KubeObject>({
  metadata: WRITERS,
  ...(openMaps(fields as never) as Record<string, never>),
});

function mergeAll(objects: KubeObject[]): Record<string, unknown> {
  return mergeShapes(objects.map(shapeOf)) as Record<string, unknown>;
}

/** Keeps the HA objects of `db`; returns a message when one of its names is someone else's. */
export async function ensureHaObjects(
  ctx: StepContext,
  caches: HaObjectCaches,
  db: Database,
  spec: DatabaseSpec,
): Promise<string | undefined> {
  const [account, role, binding] = desiredAccess(db);
  const wanted: [keyof HaObjectCaches, KubeObject][] = [
    ["serviceAccounts", account],
    ["roles", role],
    ["roleBindings", binding],
    ["budgets", desiredDisruptionBudget(db)],
  ];
  if (spec.replicas <= 1) {
    // Only the budget goes: a pod made from the previous template may still name the
    // ServiceAccount while the StatefulSet rolls, and the access objects go with the Database.
    await remove(ctx, caches.budgets, "budgets", db, wanted[3]![1]);
    return undefined;
  }
  const problems = await Promise.all(
    wanted.map(([kind, desired]) =>
      ensureOne(ctx, caches[kind], HA_OBJECT_TYPES[kind], db, desired)
    ),
  );
  return problems.filter((p) => p).join("; ") || undefined;
}

async function ensureOne(
  ctx: StepContext,
  cache: CreatedObjects<KubeObject>,
  type: ResourceType,
  db: Database,
  desired: KubeObject,
): Promise<string | undefined> {
  let live = cache.get(`${db.metadata.namespace}/${desired.metadata.name}`);
  if (!live) {
    const made = await createOnly(ctx, type, projectHaObject, cache, desired);
    if ("created" in made) return undefined;
    live = made.live;
  }
  if (live && !controlledBy(live, db)) return foreignObjectMessage(type.kind, live, db);
  await ensureApplied(ctx, type, live, desired);
  return undefined;
}

async function remove(
  ctx: StepContext,
  cache: CreatedObjects<KubeObject>,
  kind: keyof HaObjectCaches,
  db: Database,
  desired: KubeObject,
): Promise<void> {
  const ns = db.metadata.namespace!;
  const live = cache.get(`${ns}/${desired.metadata.name}`);
  if (!live || !controlledBy(live, db)) return;
  const type = HA_OBJECT_TYPES[kind];
  await ctx.client.request("DELETE", objectPath(type, ns, desired.metadata.name!), {
    signal: ctx.signal,
  }).catch((error) => {
    if (!(error instanceof ApiError && error.code === 404)) throw error;
  });
  ctx.log.info("Deleted", {
    kind: type.kind,
    name: desired.metadata.name,
    database: db.metadata.name,
  });
}
