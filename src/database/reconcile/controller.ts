/**
 * Wires the Database controller into a manager: `For(Database).Owns(Secret).Owns(Service)
 * .Owns(StatefulSet).Watches(Pod → its Database by label)`, with the `spec.environment` field
 * index of the course, whose field also orders the queue (`production` first, see
 * `priority.ts`).
 *
 * @module
 */
import type client from "prom-client";
import type { Controller, Manager } from "../../runtime/controller/mod.ts";
import type { InformerEvent } from "../../runtime/cache/mod.ts";
import { CORE, type KubeObject } from "../../runtime/client/mod.ts";
import {
  type Backup,
  BACKUP_RESOURCE,
  type Database,
  DATABASE_RESOURCE,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  projectDatabase,
} from "../api/mod.ts";
import { type CachedSecret, projectSecret } from "../credentials/mod.ts";
import { projectService, type Service } from "../services/mod.ts";
import {
  DATABASE_POD_INDEX,
  databaseOfPod,
  type Pod,
  projectPod,
  projectStatefulSet,
  type StatefulSet,
} from "../instances/mod.ts";
import { HA_OBJECT_TYPES, projectHaObject } from "../ha/mod.ts";
import { setupBackupController } from "./backup_controller.ts";
import { DatabaseMetrics } from "./metrics.ts";
import type { TlsSettings } from "../tls/mod.ts";
import { databasePriority, environmentOf } from "./priority.ts";
import { DatabaseReconciler } from "./reconciler.ts";

/** Name of the field index on `spec.environment`. */
export const ENVIRONMENT_INDEX = "spec.environment";

/** Options for {@linkcode setupDatabaseController}. */
export interface DatabaseControllerOptions {
  /** @default 2 */
  maxConcurrentReconciles?: number;
  /** `reportingInstance` of Events, e.g. the pod name. */
  instance: string;
  /** The operator's CA and the server certificates' settings (`tls/`). */
  tls?: TlsSettings;
  /** Registry for the `database_*` metrics (see `metrics.ts`); none are kept without it. */
  metrics?: client.Registry;
  /** How soon a Degraded Database is looked at again. @default 30_000 */
  degradedRetryMs?: number;
}

/** Adds the Database controller and the informers it needs to `manager`. */
export function setupDatabaseController(
  manager: Manager,
  options: DatabaseControllerOptions,
): Controller<Database> {
  // Owned objects carry our managed-by label; caching only those keeps unrelated Secrets
  // (and their memory) out of the process.
  const owned = { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` };
  const databases = manager.informer<Database>(DATABASE_RESOURCE, { transform: projectDatabase });
  databases.indexField(ENVIRONMENT_INDEX, environmentOf);
  // Cached owned objects keep only what the reconciler reads and sets: most of the memory.
  const secrets = manager.informer<CachedSecret>(CORE.secrets, {
    ...owned,
    transform: projectSecret,
  });
  const services = manager.informer<Service>(CORE.services, {
    ...owned,
    transform: projectService,
  });
  const statefulSets = manager.informer<StatefulSet>(CORE.statefulSets, {
    ...owned,
    transform: projectStatefulSet,
  });
  // The Database's pods, for what they say about failures (pod_health.ts).
  const pods = manager.informer<Pod>(CORE.pods, { ...owned, transform: projectPod });
  pods.indexField(DATABASE_POD_INDEX, databaseOfPod);
  // With standbys: the instances' access objects and the primary's disruption budget.
  const haInformer = (type: typeof HA_OBJECT_TYPES[keyof typeof HA_OBJECT_TYPES]) =>
    manager.informer<KubeObject>(type, { ...owned, transform: projectHaObject });
  const haObjects = {
    serviceAccounts: haInformer(HA_OBJECT_TYPES.serviceAccounts),
    roles: haInformer(HA_OBJECT_TYPES.roles),
    roleBindings: haInformer(HA_OBJECT_TYPES.roleBindings),
    budgets: haInformer(HA_OBJECT_TYPES.budgets),
  };
  const backups = manager.informer<Backup>(BACKUP_RESOURCE);
  const reconciler = new DatabaseReconciler({
    client: manager.client,
    backups,
    databases,
    secrets,
    services,
    statefulSets,
    pods,
    haObjects,
    // The manager's recorder: Events still queued at shutdown are sent before the process ends.
    events: manager.eventRecorder({
      controller: "database.example.com/postgres-operator",
      instance: options.instance,
    }),
    logger: manager.logger.child({ controller: "database" }),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.degradedRetryMs !== undefined ? { degradedRetryMs: options.degradedRetryMs } : {}),
  });
  setupBackupController(manager, { backups, databases, pods, instance: options.instance });
  return manager.controller<Database>({
    name: "database",
    for: databases,
    owns: [secrets, services, statefulSets, ...Object.values(haObjects)],
    watches: [{ informer: pods, map: (pod) => databaseOfPod(pod as Pod) }],
    reconcile: options.metrics
      ? new DatabaseMetrics(options.metrics, databases.store).instrument(reconciler.reconcile)
      : reconciler.reconcile,
    maxConcurrentReconciles: options.maxConcurrentReconciles ?? 2,
    // Readiness news first, then production Databases (see priority.ts).
    priority: databasePriority((key) =>
      databases.store.indexHas(ENVIRONMENT_INDEX, "production", key)
    ),
    predicate: needsReconcile,
  });
}

/**
 * Skips updates that only touched status (our own status writes among them), as
 * controller-runtime's GenerationChanged predicate does, while still passing changes to
 * labels, annotations, finalizers and deletion.
 */
export function needsReconcile(event: InformerEvent<Database>): boolean {
  if (event.type !== "updated" || !event.old) return true;
  const a = event.old.metadata;
  const b = event.object.metadata;
  return a.generation !== b.generation || a.deletionTimestamp !== b.deletionTimestamp ||
    JSON.stringify([a.labels, a.annotations, a.finalizers]) !==
      JSON.stringify([b.labels, b.annotations, b.finalizers]);
}
