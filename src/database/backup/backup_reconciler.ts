/**
 * The Backup controller's reconcile: a new Backup gets a Job beside an instance of its Database
 * (a ready streaming standby when there is one, else the ready primary), and the Job's outcome
 * becomes the Backup's status. A Backup whose Database is missing, has no `spec.backup`, or is
 * not ready waits with phase Pending and a reason; a finished Backup is never looked at again.
 *
 * @module
 */
import { ApiError, collectionPath, type KubeClient, objectPath } from "../../runtime/client/mod.ts";
import type { EventRecorder, Request, Result } from "../../runtime/controller/mod.ts";
import type { ReadonlyStore } from "../../runtime/cache/mod.ts";
import {
  type Backup,
  BACKUP_RESOURCE,
  type BackupStatus,
  type Database,
  FIELD_MANAGER,
} from "../api/mod.ts";
import {
  backupJob,
  backupJobName,
  type BackupSource,
  type Job,
  JOB_RESOURCE,
} from "./backup_job.ts";

/** An instance as the backup step needs it. */
export interface BackupInstance extends BackupSource {
  ready: boolean;
  primary: boolean;
}

/** What the reconcile reads and writes through. */
export interface BackupDeps {
  client: Pick<KubeClient, "request">;
  backups: ReadonlyStore<Backup>;
  databases: ReadonlyStore<Database>;
  jobs: ReadonlyStore<Job>;
  /** The Database's instances from the pod cache. */
  instances(db: Database): BackupInstance[];
  /** The termination message of a Job's pod, once it ended. */
  jobResult(namespace: string, job: string): string | undefined;
  events: Pick<EventRecorder, "record">;
  now(): Date;
}

const WAIT_MS = 10_000;

/** The Backup controller's reconcile function. */
export function backupReconciler(deps: BackupDeps): (request: Request) => Promise<Result> {
  return async (request) => {
    const backup = deps.backups.get(request.key);
    const phase = backup?.status?.phase;
    if (!backup || phase === "Completed" || phase === "Failed") return {};
    const ns = backup.metadata.namespace!;
    const job = deps.jobs.get(`${ns}/${backupJobName(backup)}`);
    if (job) return await follow(deps, backup, job);
    const db = deps.databases.get(`${ns}/${backup.spec.database}`);
    const wait = (reason: string) => pending(deps, backup, reason);
    if (!db) return await wait(`Database ${backup.spec.database} does not exist`);
    if (!db.spec.backup) {
      return await wait(`Database ${backup.spec.database} has no spec.backup.objectStore`);
    }
    const ready = deps.instances(db).filter((i) => i.ready && i.node && i.ip);
    const source = ready.find((i) => !i.primary) ?? ready.find((i) => i.primary);
    if (!source) return await wait(`Database ${backup.spec.database} has no ready instance`);
    try {
      await deps.client.request("POST", collectionPath(JOB_RESOURCE, ns), {
        body: backupJob(backup, db, source),
        query: { fieldManager: FIELD_MANAGER },
      });
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409)) throw error;
    }
    deps.events.record(
      backup,
      "Normal",
      "Started",
      "Backup",
      `Base backup of ${db.metadata.name} from ${source.pod}${source.primary ? " (primary)" : ""}`,
    );
    await patchStatus(deps, backup, {
      phase: "Running",
      instance: source.pod,
      startedAt: deps.now().toISOString(),
      error: null,
    });
    return {};
  };
}

async function follow(deps: BackupDeps, backup: Backup, job: Job): Promise<Result> {
  const done = job.status?.succeeded ?? 0;
  const failed = job.status?.failed ?? 0;
  if (done === 0 && failed === 0) return {};
  const message = deps.jobResult(backup.metadata.namespace!, job.metadata.name!);
  if (message === undefined) return { requeueAfterMs: 1_000 };
  if (done > 0) {
    const record = parseRecord(message);
    if (!record) {
      await fail(deps, backup, `The Job reported no backup: ${message}`);
      return await removeJob(deps, job);
    }
    await patchStatus(deps, backup, {
      phase: "Completed",
      backupId: record.id,
      startedAt: new Date(record.begin * 1000).toISOString(),
      stoppedAt: new Date(record.end * 1000).toISOString(),
      beginWal: record.beginWal,
      endWal: record.endWal,
      size: record.size,
    });
    deps.events.record(
      backup,
      "Normal",
      "Completed",
      "Backup",
      `Backup ${record.id} of ${backup.spec.database}: WAL ${record.beginWal} to ${record.endWal}`,
    );
    return await removeJob(deps, job);
  }
  await fail(deps, backup, message.trim() || "The backup Job failed");
  return await removeJob(deps, job);
}

/**
 * The finished Job goes with its pod once its outcome is in the Backup's status: a finished pod
 * still counts as using the instance's volume claim, whose deletion would wait for it.
 */
async function removeJob(deps: BackupDeps, job: Job): Promise<Result> {
  await deps.client.request(
    "DELETE",
    objectPath(JOB_RESOURCE, job.metadata.namespace, job.metadata.name!),
    { body: { propagationPolicy: "Background" } },
  ).catch((error) => {
    if (!(error instanceof ApiError && error.code === 404)) throw error;
  });
  return {};
}

/** The record `barman.sh backup` ends with. */
export interface BackupRecord {
  id: string;
  begin: number;
  end: number;
  beginWal: string;
  endWal: string;
  size: number;
}

/** The Job's termination message as a record, or undefined when it is not one. */
export function parseRecord(message: string): BackupRecord | undefined {
  try {
    const value = JSON.parse(message);
    return typeof value?.id === "string" && typeof value.end === "number" ? value : undefined;
  } catch {
    return undefined;
  }
}

async function fail(deps: BackupDeps, backup: Backup, error: string): Promise<Result> {
  deps.events.record(backup, "Warning", "Failed", "Backup", error);
  await patchStatus(deps, backup, {
    phase: "Failed",
    stoppedAt: deps.now().toISOString(),
    error,
  });
  return {};
}

async function pending(deps: BackupDeps, backup: Backup, reason: string): Promise<Result> {
  if (backup.status?.phase !== "Pending" || backup.status.error !== reason) {
    deps.events.record(backup, "Warning", "Waiting", "Backup", reason);
    await patchStatus(deps, backup, { phase: "Pending", error: reason });
  }
  return { requeueAfterMs: WAIT_MS };
}

type StatusPatch = { [K in keyof BackupStatus]?: BackupStatus[K] | null };

async function patchStatus(deps: BackupDeps, backup: Backup, status: StatusPatch) {
  await deps.client.request(
    "PATCH",
    objectPath(BACKUP_RESOURCE, backup.metadata.namespace, backup.metadata.name!, "status"),
    {
      body: { status },
      contentType: "application/merge-patch+json",
      query: { fieldManager: FIELD_MANAGER },
    },
  );
}
