/**
 * `spec.backup.schedule` and `retention` on the Backup objects: when a scheduled time has come
 * since the last scheduled Backup (or since the Database was created), a Backup
 * `<name>-<yyyymmddhhmm>` owned by the Database is created; scheduled Backups that completed
 * longer ago than `retention` are deleted, never the newest completed one. (The store's own
 * backups and WAL are pruned by `barman-cloud-backup-delete` in each backup Job.) Missed times
 * collapse into one Backup. Runs with the archive step, every 30 s.
 *
 * @module
 */
import { ApiError, collectionPath, type KubeClient, objectPath } from "../../runtime/client/mod.ts";
import type { EventRecorder } from "../../runtime/controller/mod.ts";
import type { ReadonlyStore } from "../../runtime/cache/mod.ts";
import {
  API_VERSION,
  type Backup,
  BACKUP_RESOURCE,
  type Database,
  FIELD_MANAGER,
  ownerReference,
} from "../api/mod.ts";
import { dueSince, parseSchedule } from "../backup/mod.ts";

/** The label on scheduled Backups: their Database's name. */
export const SCHEDULED_LABEL = "database.example.com/scheduled-for";

/** What the step reads and writes through. */
export interface ScheduleDeps {
  client: Pick<KubeClient, "request">;
  backups: ReadonlyStore<Backup>;
  events: Pick<EventRecorder, "record">;
  now(): Date;
  signal?: AbortSignal;
}

const DAY_MS = 24 * 3600 * 1000;
const UNIT_MS: Record<string, number> = { d: DAY_MS, w: 7 * DAY_MS, m: 30 * DAY_MS };

/** Creates the Backup that is due, and deletes expired scheduled ones. */
export async function ensureSchedule(deps: ScheduleDeps, db: Database): Promise<void> {
  const spec = db.spec.backup;
  if (!spec?.schedule) return;
  const ns = db.metadata.namespace!;
  const mine = deps.backups.list().filter((b) =>
    b.metadata.namespace === ns && b.metadata.labels?.[SCHEDULED_LABEL] === db.metadata.name
  );
  let schedule;
  try {
    schedule = parseSchedule(spec.schedule);
  } catch (error) {
    const message = `spec.backup.schedule: ${(error as Error).message}`;
    deps.events.record(db, "Warning", "InvalidSchedule", "Schedule", message);
    return;
  }
  const now = deps.now();
  const last = [db.metadata.creationTimestamp, ...mine.map((b) => b.metadata.creationTimestamp)]
    .filter((t): t is string => Boolean(t)).sort().at(-1);
  const due = dueSince(schedule, new Date(last ?? now.toISOString()), now);
  if (due) {
    const stamp = due.toISOString().replace(/[-:T]/g, "").slice(0, 12);
    const name = `${db.metadata.name}-${stamp}`;
    try {
      await deps.client.request("POST", collectionPath(BACKUP_RESOURCE, ns), {
        body: {
          apiVersion: API_VERSION,
          kind: BACKUP_RESOURCE.kind,
          metadata: {
            name,
            namespace: ns,
            labels: { [SCHEDULED_LABEL]: db.metadata.name! },
            ownerReferences: [ownerReference(db)],
          },
          spec: { database: db.metadata.name },
        },
        query: { fieldManager: FIELD_MANAGER },
        signal: deps.signal,
      });
      deps.events.record(db, "Normal", "BackupScheduled", "Schedule", `Created Backup ${name}`);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409)) throw error;
    }
  }
  if (!spec.retention) return;
  const keepMs = Number(spec.retention.slice(0, -1)) * UNIT_MS[spec.retention.slice(-1)]!;
  const completed = mine.filter((b) => b.status?.phase === "Completed" && b.status.stoppedAt)
    .sort((a, b) => a.status!.stoppedAt! < b.status!.stoppedAt! ? -1 : 1);
  for (const backup of completed.slice(0, -1)) {
    if (now.getTime() - Date.parse(backup.status!.stoppedAt!) <= keepMs) continue;
    await deps.client.request(
      "DELETE",
      objectPath(BACKUP_RESOURCE, ns, backup.metadata.name!),
      { signal: deps.signal },
    ).catch((error) => {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    });
    deps.events.record(
      db,
      "Normal",
      "BackupExpired",
      "Retention",
      `Deleted Backup ${backup.metadata.name}, older than ${spec.retention}`,
    );
  }
}
