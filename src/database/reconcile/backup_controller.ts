/**
 * Wires the Backup controller: `For(Backup).Owns(Job)`, reading the Databases and pods the
 * Database controller caches already (`backup/backup_reconciler.ts` does the work).
 *
 * @module
 */
import type { Controller, Manager } from "../../runtime/controller/mod.ts";
import type { Informer } from "../../runtime/cache/mod.ts";
import {
  type Backup,
  type Database,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  primaryPod,
} from "../api/mod.ts";
import {
  BACKUP_LABEL,
  type BackupInstance,
  backupReconciler,
  type Job,
  JOB_RESOURCE,
} from "../backup/mod.ts";
import { DATABASE_POD_INDEX, type Pod } from "../instances/mod.ts";

/** Adds the Backup controller, sharing the Database controller's informers. */
export function setupBackupController(
  manager: Manager,
  options: {
    backups: Informer<Backup>;
    databases: Informer<Database>;
    pods: Informer<Pod>;
    instance: string;
  },
): Controller<Backup> {
  const { backups, databases, pods } = options;
  const jobs = manager.informer<Job>(JOB_RESOURCE, {
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
  });
  const instances = (db: Database): BackupInstance[] =>
    pods.store.list({
      index: DATABASE_POD_INDEX,
      value: `${db.metadata.namespace}/${db.metadata.name}`,
    })
      .map((pod) => ({
        pod: pod.metadata.name!,
        node: pod.spec?.nodeName ?? "",
        ip: pod.status?.podIP ?? "",
        ready: pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ??
          false,
        primary: pod.metadata.name === primaryPod(db),
      }));
  const jobResult = (namespace: string, job: string): string | undefined => {
    const pod = pods.store.list().find((p) =>
      p.metadata.namespace === namespace && p.metadata.labels?.["job-name"] === job &&
      p.metadata.labels?.[BACKUP_LABEL] !== undefined
    );
    const terminated = pod?.status?.containerStatuses?.[0]?.state?.terminated;
    return terminated ? terminated.message ?? "" : undefined;
  };
  return manager.controller<Backup>({
    name: "backup",
    for: backups,
    owns: [jobs],
    reconcile: backupReconciler({
      client: manager.client,
      backups: backups.store,
      databases: databases.store,
      jobs: jobs.store,
      instances,
      jobResult,
      events: manager.eventRecorder({
        controller: "database.example.com/postgres-operator",
        instance: options.instance,
      }),
      now: () => new Date(),
    }),
    maxConcurrentReconciles: 1,
  });
}
