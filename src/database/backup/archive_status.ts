/**
 * The ContinuousArchiving condition and `status.backup`, from what the primary's
 * `pg_stat_archiver` says and the Backups that completed. Archiving is healthy while the last
 * success is newer than the last failure; a segment that fails stays in `pg_wal` and PostgreSQL
 * retries it, so the condition turns True again by itself once the store is back.
 *
 * @module
 */
import type { Condition, Database, DatabaseBackupStatus } from "../api/mod.ts";

/** The condition's type. */
export const ARCHIVING_CONDITION = "ContinuousArchiving";

/** The primary's archiver, as `pg_stat_archiver` has it. */
export const ARCHIVER_QUERY = "SELECT last_archived_wal, " +
  `to_char(last_archived_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS archived_at, ` +
  "last_failed_wal, " +
  `to_char(last_failed_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS failed_at ` +
  "FROM pg_stat_archiver";

/** One row of {@linkcode ARCHIVER_QUERY}. */
export interface ArchiverRow {
  last_archived_wal?: string | null;
  archived_at?: string | null;
  last_failed_wal?: string | null;
  failed_at?: string | null;
}

/** Completed backups, as the Backup objects say. */
export interface CompletedBackup {
  name: string;
  stoppedAt: string;
}

/** What the archive step writes: the condition and `status.backup`. */
export interface ArchiveStatus {
  condition: Omit<Condition, "lastTransitionTime" | "observedGeneration">;
  backup: DatabaseBackupStatus;
}

/** The condition and `status.backup` for `row` and `backups`. */
export function archiveStatus(row: ArchiverRow, backups: CompletedBackup[]): ArchiveStatus {
  const backup: DatabaseBackupStatus = {};
  const sorted = [...backups].sort((a, b) => a.stoppedAt < b.stoppedAt ? -1 : 1);
  if (sorted.length > 0) {
    backup.lastBackup = sorted.at(-1)!.name;
    backup.lastBackupTime = sorted.at(-1)!.stoppedAt;
    backup.firstRecoverabilityPoint = sorted[0]!.stoppedAt;
  }
  if (row.last_archived_wal) backup.lastArchivedWal = row.last_archived_wal;
  if (row.archived_at) backup.lastArchivedTime = row.archived_at;
  if (row.last_failed_wal) backup.lastFailedWal = row.last_failed_wal;
  if (row.failed_at) backup.lastFailedTime = row.failed_at;
  const failing = Boolean(row.failed_at) &&
    (!row.archived_at || row.failed_at! > row.archived_at);
  const condition = failing
    ? {
      type: ARCHIVING_CONDITION,
      status: "False" as const,
      reason: "ArchiveFailing",
      message: `WAL segment ${row.last_failed_wal} failed to archive at ${row.failed_at}; ` +
        "PostgreSQL keeps it and retries (the server log has barman-cloud's error)",
    }
    : row.archived_at
    ? {
      type: ARCHIVING_CONDITION,
      status: "True" as const,
      reason: "Archiving",
      message: `WAL archived up to ${row.last_archived_wal} at ${row.archived_at}`,
    }
    : {
      type: ARCHIVING_CONDITION,
      status: "True" as const,
      reason: "NothingArchivedYet",
      message: "archive_mode is on; no WAL segment has been completed yet",
    };
  return { condition, backup };
}

/**
 * The status patch for `next`, or undefined when `db` shows it already: the other conditions
 * kept, the transition time moved only when the condition's status changes.
 */
export function archiveStatusPatch(
  db: Database,
  conditions: Condition[],
  next: ArchiveStatus,
  now: Date,
): { conditions: Condition[]; backup: DatabaseBackupStatus } | undefined {
  const previous = conditions.find((c) => c.type === ARCHIVING_CONDITION);
  const condition: Condition = {
    ...next.condition,
    ...(db.metadata.generation !== undefined ? { observedGeneration: db.metadata.generation } : {}),
    lastTransitionTime: previous?.status === next.condition.status
      ? previous.lastTransitionTime
      : now.toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
  const same = previous !== undefined &&
    (["status", "reason", "message", "observedGeneration"] as const)
      .every((key) => previous[key] === condition[key]) &&
    canonical(db.status?.backup ?? {}) === canonical(next.backup);
  if (same) return undefined;
  return {
    conditions: [...conditions.filter((c) => c.type !== ARCHIVING_CONDITION), condition],
    backup: next.backup,
  };
}

const canonical = (value: object) => JSON.stringify(Object.entries(value).sort());
