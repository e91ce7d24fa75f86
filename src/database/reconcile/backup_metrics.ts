/**
 * The backup metrics, per Database with `spec.backup`, computed from the Database cache at
 * scrape time (so a Database without backups, or deleted, leaves no series):
 *
 * - `database_backup_last_success_timestamp_seconds`: when the last Backup completed;
 * - `database_backup_schedule_interval_seconds`: the time between the schedule's last two runs
 *   (for the "no backup within twice the schedule" alert);
 * - `database_wal_last_archived_timestamp_seconds`: when the primary last archived a segment;
 * - `database_wal_archive_failing`: 1 while the last archive attempt failed
 *   (ContinuousArchiving False), else 0.
 *
 * @module
 */
import client from "prom-client";
import type { ReadonlyStore } from "../../runtime/cache/mod.ts";
import type { Database } from "../api/mod.ts";
import { ARCHIVING_CONDITION, dueSince, parseSchedule } from "../backup/mod.ts";

const LABELS = ["namespace", "name"] as const;

/** Registers the backup gauges on `registry`; `now` is the clock for schedule intervals. */
export function registerBackupMetrics(
  registry: client.Registry,
  databases: ReadonlyStore<Database>,
  now: () => Date = () => new Date(),
): void {
  const gauge = (
    { name, help, value }: {
      name: string;
      help: string;
      value: (db: Database) => number | undefined;
    },
  ) =>
    new client.Gauge({
      name,
      help,
      labelNames: LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const db of databases.list()) {
          if (!db.spec?.backup) continue;
          const v = value(db);
          if (v === undefined || Number.isNaN(v)) continue;
          this.set({ namespace: db.metadata.namespace ?? "", name: db.metadata.name ?? "" }, v);
        }
      },
    });
  const seconds = (time: string | undefined) =>
    time === undefined ? undefined : Date.parse(time) / 1000;
  gauge({
    name: "database_backup_last_success_timestamp_seconds",
    help: "When the Database's last base backup completed, in seconds since the epoch",
    value: (db) => seconds(db.status?.backup?.lastBackupTime),
  });
  gauge({
    name: "database_backup_schedule_interval_seconds",
    help: "Seconds between the last two times of spec.backup.schedule",
    value: (db) => scheduleInterval(db.spec.backup?.schedule, now()),
  });
  gauge({
    name: "database_wal_last_archived_timestamp_seconds",
    help: "When the Database's primary last archived a WAL segment, in seconds since the epoch",
    value: (db) => seconds(db.status?.backup?.lastArchivedTime),
  });
  gauge({
    name: "database_wal_archive_failing",
    help:
      "1 while the Database's last WAL archive attempt failed (ContinuousArchiving False), else 0",
    value: (db) => {
      const status = db.status?.conditions?.find((c) => c.type === ARCHIVING_CONDITION)?.status;
      return status === undefined ? undefined : status === "False" ? 1 : 0;
    },
  });
}

/** How far back the interval is looked for: monthly schedules at most. */
const LOOK_BACK_MINUTES = 32 * 24 * 60;

/**
 * Seconds between the two latest scheduled times at or before `now`; undefined for schedules
 * rarer than monthly.
 */
export function scheduleInterval(text: string | undefined, now: Date): number | undefined {
  if (!text) return undefined;
  try {
    const schedule = parseSchedule(text);
    const last = dueSince(schedule, new Date(0), now, LOOK_BACK_MINUTES);
    if (!last) return undefined;
    const before = dueSince(
      schedule,
      new Date(0),
      new Date(last.getTime() - 60_000),
      LOOK_BACK_MINUTES,
    );
    return before ? (last.getTime() - before.getTime()) / 1000 : undefined;
  } catch {
    return undefined;
  }
}
