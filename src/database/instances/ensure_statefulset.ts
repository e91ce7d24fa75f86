/**
 * The reconcile step for the instances: the StatefulSet `<name>` as the spec asks, its volumes
 * grown when `spec.storage.size` grows, each pod labelled with its role, and what the pods say.
 *
 * - A missing StatefulSet is created with a POST; a taken name is read before anything
 *   immutable is rebuilt, and one the Database does not control is left untouched.
 * - One made by an earlier version, governed by the read-write Service, is recreated (its pods
 *   and volumes orphaned, then adopted by the new one, which rolls them once): `serviceName`
 *   cannot change.
 * - `volumeClaimTemplates` are immutable: the live template is kept and the PVCs are resized
 *   instead (`storage.ts`); the size applied is recorded in {@linkcode STORAGE_SIZE_ANNOTATION},
 *   and new ordinals' claims are made at the grown size before a scale-up.
 *
 * @module
 */
import { CORE, objectPath } from "../../runtime/client/mod.ts";
import type { CreatedObjects, Informer } from "../../runtime/cache/mod.ts";
import {
  compareQuantities,
  type Database,
  type DatabaseSpec,
  FIELD_MANAGER,
  isQuantity,
  podsServiceName,
  sameQuantity,
} from "../api/mod.ts";
import {
  controlledBy,
  createOnly,
  ensureApplied,
  foreignObjectMessage,
  type StepContext,
  type WriteContext,
} from "../objects/mod.ts";
import {
  DATABASE_POD_INDEX,
  type Pod,
  type PodProblem,
  podProblem,
  streamingStandbys,
} from "./pod_health.ts";
import { labelRoles } from "./pod_roles.ts";
import { desiredStatefulSet, type StatefulSet, volumeClaimTemplate } from "./statefulset.ts";
import { projectStatefulSet } from "./statefulset_projection.ts";
import { createMissingClaims, growVolumes, STORAGE_SIZE_ANNOTATION } from "./storage.ts";

/** What the instances step saw, for the status. */
export interface InstancesOutcome {
  statefulSet?: StatefulSet;
  replicas: number;
  /** Set when the storage cannot grow as asked. */
  storageProblem?: string;
  /** What the pods report, if anything is wrong with them. */
  podProblem?: PodProblem;
  /** The primary is lost with nobody to take over (set by the HA step). */
  primaryProblem?: PodProblem;
  /** With standbys: how many stream from the primary. */
  streamingReplicas?: number;
  /** Set when an object with one of our names belongs to someone else. */
  conflict?: string;
}

/** The caches the instances step reads. */
export interface InstanceCaches {
  statefulSets: CreatedObjects<StatefulSet>;
  /** The Database's pods, indexed by {@linkcode DATABASE_POD_INDEX}. */
  pods: Informer<Pod>;
}

/**
 * Makes or updates the StatefulSet of `db`, whose pods run with `credentials` and, with `tls`
 * (which certificate the Secret holds), serve TLS with it.
 */
export async function ensureStatefulSet(
  ctx: StepContext,
  caches: InstanceCaches,
  db: Database,
  spec: DatabaseSpec,
  credentials: string,
  tls?: string,
): Promise<InstancesOutcome> {
  const { client, signal } = ctx;
  let live = caches.statefulSets.get(`${db.metadata.namespace}/${db.metadata.name}`);
  if (!live) {
    const desired = desiredStatefulSet(db, spec, volumeClaimTemplate(db, spec), credentials, tls);
    const made = await createOnly(
      ctx,
      CORE.statefulSets,
      projectStatefulSet,
      caches.statefulSets,
      desired,
    );
    if ("created" in made) return await observe(ctx, caches, db, spec, made.created);
    // The name is taken: what is there decides, before anything immutable is rebuilt.
    live = made.live;
  }
  if (live && !controlledBy(live, db)) {
    return { replicas: spec.replicas, conflict: foreignObjectMessage("StatefulSet", live, db) };
  }
  if (live && live.spec?.serviceName !== podsServiceName(db)) {
    // Its deletion brings us back here, to create it anew.
    await client.request(
      "DELETE",
      objectPath(CORE.statefulSets, db.metadata.namespace, db.metadata.name!),
      { query: { propagationPolicy: "Orphan" }, signal },
    );
    ctx.log.info("Recreating the StatefulSet for its governing Service", {
      database: db.metadata.name,
    });
    return { replicas: spec.replicas };
  }
  const template = live?.spec?.volumeClaimTemplates?.[0] ?? volumeClaimTemplate(db, spec);
  const desired = desiredStatefulSet(db, spec, template, credentials, tls);
  let storageProblem: string | undefined;
  const templateSize = template.spec.resources.requests.storage;
  // A hand-edited annotation that is not a quantity is ignored (and set right below).
  const annotated = live?.metadata.annotations?.[STORAGE_SIZE_ANNOTATION];
  const appliedSize = isQuantity(annotated) ? annotated : templateSize;
  if (live && compareQuantities(spec.storage.size, appliedSize) > 0) {
    storageProblem = await growVolumes(client, db, spec.storage.size, FIELD_MANAGER, signal);
  }
  const grown = live && !storageProblem ? spec.storage.size : appliedSize;
  if (live && (annotated !== undefined || !sameQuantity(grown, templateSize))) {
    desired.metadata.annotations = { [STORAGE_SIZE_ANNOTATION]: grown };
  }
  if (
    live && compareQuantities(spec.storage.size, templateSize) > 0 &&
    spec.replicas > (live.spec?.replicas ?? 0)
  ) {
    // The template would make the new ordinals' claims at the size first asked for.
    const created = await createMissingClaims(
      client,
      db,
      template,
      spec.storage.size,
      spec.replicas,
      FIELD_MANAGER,
      signal,
    );
    for (const claim of created) ctx.changes.created("PersistentVolumeClaim", claim);
  }
  // The update strategy changes with standbys (OnDelete: the operator rolls the pods) and
  // back; the server's default `rollingUpdate` must go with it, which only a patch can say.
  const strategy = spec.replicas > 1 ? "OnDelete" : "RollingUpdate";
  const liveStrategy = (live?.spec?.updateStrategy as { type?: string } | undefined)?.type;
  if (live && (liveStrategy ?? "RollingUpdate") !== strategy) {
    await client.request(
      "PATCH",
      objectPath(CORE.statefulSets, db.metadata.namespace, db.metadata.name!),
      {
        body: {
          spec: {
            updateStrategy: strategy === "OnDelete"
              ? { type: strategy, rollingUpdate: null }
              : { type: strategy },
          },
        },
        contentType: "application/merge-patch+json",
        query: { fieldManager: FIELD_MANAGER },
        signal,
      },
    );
  }
  const current = await ensureApplied(ctx, CORE.statefulSets, live, desired);
  return await observe(ctx, caches, db, spec, current, storageProblem);
}

/** What the StatefulSet and the pods show, once the StatefulSet is as the spec asks. */
async function observe(
  ctx: WriteContext,
  caches: InstanceCaches,
  db: Database,
  spec: DatabaseSpec,
  current: StatefulSet,
  storageProblem?: string,
): Promise<InstancesOutcome> {
  const key = `${db.metadata.namespace}/${db.metadata.name}`;
  const pods = caches.pods.store.list({ index: DATABASE_POD_INDEX, value: key });
  if (spec.replicas > 1) await labelRoles(ctx.client, db, pods, ctx.signal);
  const problem = podProblem(pods);
  return {
    statefulSet: current,
    replicas: spec.replicas,
    ...(storageProblem ? { storageProblem } : {}),
    ...(problem ? { podProblem: problem } : {}),
    ...(spec.replicas > 1 ? { streamingReplicas: streamingStandbys(db, pods) } : {}),
  };
}
