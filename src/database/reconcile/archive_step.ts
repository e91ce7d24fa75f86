/**
 * The archive step, for a Database with `spec.backup`: asks the primary's `pg_stat_archiver`
 * (over the pod network, as the Database's owner) and writes the ContinuousArchiving condition
 * and `status.backup` when they changed, with an Event when archiving starts failing or heals.
 * It runs at every reconcile of such a Database and asks to be run again after
 * {@linkcode ARCHIVE_CHECK_MS}: a store outage shows within that time.
 *
 * @module
 */
import { type KubeClient, objectPath } from "../../runtime/client/mod.ts";
import type { EventRecorder } from "../../runtime/controller/mod.ts";
import type { ReadonlyStore } from "../../runtime/cache/mod.ts";
import {
  type Backup,
  type Database,
  DATABASE_RESOURCE,
  type DatabaseStatus,
  FIELD_MANAGER,
  podHost,
  primaryPod,
} from "../api/mod.ts";
import {
  ARCHIVER_QUERY,
  type ArchiverRow,
  archiveStatus,
  archiveStatusPatch,
  ARCHIVING_CONDITION,
} from "../backup/mod.ts";
import { ownerCredentials, queryRow } from "../ha/mod.ts";
import type { Pod } from "../instances/mod.ts";
import { ensureSchedule } from "./schedule_step.ts";

/** How often a Database with backups has its archive looked at. */
export const ARCHIVE_CHECK_MS = 30_000;

/** What the step reads and writes through. */
export interface ArchiveDeps {
  client: Pick<KubeClient, "request">;
  pods: ReadonlyStore<Pod>;
  backups: ReadonlyStore<Backup>;
  events: Pick<EventRecorder, "record">;
  now(): Date;
  signal?: AbortSignal;
}

/**
 * The backup steps of `db` (whose status is `status`): the archive's status, then the
 * schedule and retention of its Backups. Resolves with the delay of the next check.
 */
export async function ensureBackups(
  deps: ArchiveDeps,
  db: Database,
  status: DatabaseStatus,
): Promise<number | undefined> {
  const after = await ensureArchiveStatus(deps, db, status);
  await ensureSchedule(deps, db);
  return after;
}

/** Checks the archive of `db`, whose status is `status`; the delay of the next check. */
export async function ensureArchiveStatus(
  deps: ArchiveDeps,
  db: Database,
  status: DatabaseStatus,
): Promise<number | undefined> {
  if (!db.spec.backup) return undefined;
  const ns = db.metadata.namespace!;
  const pod = deps.pods.get(`${ns}/${primaryPod(db)}`);
  const ip = pod?.status?.podIP;
  if (!ip) return ARCHIVE_CHECK_MS;
  const row = await queryRow(
    { host: ip, ...await ownerCredentials(deps, db), servername: podHost(db, primaryPod(db)) },
    ARCHIVER_QUERY,
  ) as ArchiverRow | undefined;
  if (!row) return ARCHIVE_CHECK_MS;
  const completed = deps.backups.list()
    .filter((b) =>
      b.metadata.namespace === ns && b.spec.database === db.metadata.name &&
      b.status?.phase === "Completed" && b.status.stoppedAt
    )
    .map((b) => ({ name: b.metadata.name!, stoppedAt: b.status!.stoppedAt! }));
  const next = archiveStatus(row, completed);
  const conditions = status.conditions ?? [];
  const patch = archiveStatusPatch(db, conditions, next, deps.now());
  if (!patch) return ARCHIVE_CHECK_MS;
  await deps.client.request(
    "PATCH",
    objectPath(DATABASE_RESOURCE, ns, db.metadata.name!, "status"),
    {
      body: { status: patch },
      contentType: "application/merge-patch+json",
      query: { fieldManager: FIELD_MANAGER },
      signal: deps.signal,
    },
  );
  const was = conditions.find((c) => c.type === ARCHIVING_CONDITION)?.status;
  if (was !== next.condition.status) {
    const failing = next.condition.status === "False";
    deps.events.record(
      db,
      failing ? "Warning" : "Normal",
      failing ? "ArchiveFailing" : "Archiving",
      "Archive",
      next.condition.message,
    );
  }
  return ARCHIVE_CHECK_MS;
}
