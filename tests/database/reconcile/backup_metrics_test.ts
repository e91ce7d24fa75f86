/** The backup gauges, from the Database cache at scrape time. */
import assert from "node:assert/strict";
import client from "prom-client";
import type { ReadonlyStore } from "../../../src/runtime/cache/mod.ts";
import type { Database } from "../../../src/database/api/mod.ts";
import {
  registerBackupMetrics,
  scheduleInterval,
} from "../../../src/database/reconcile/backup_metrics.ts";

const now = new Date("2026-12-07T10:00:00Z");

Deno.test("scheduleInterval() is the time between a schedule's last two runs", () => {
  assert.equal(scheduleInterval("0 3 * * *", now), 86_400);
  assert.equal(scheduleInterval("*/15 * * * *", now), 900);
  assert.equal(scheduleInterval("0 0 1 1 *", now), undefined, "yearly: beyond the look-back");
  assert.equal(scheduleInterval(undefined, now), undefined);
});

Deno.test("the gauges show Databases with backups only, from their status", async () => {
  const spec = {
    image: "postgres-operator/postgresql:17",
    replicas: 1,
    databaseName: "app",
    username: "app",
    storage: { size: "1Gi" },
  };
  const dbs: Database[] = [
    {
      metadata: { name: "orders", namespace: "shop" },
      spec: {
        ...spec,
        backup: {
          objectStore: { endpoint: "https://s3", bucket: "backups", secret: "s3" },
          schedule: "0 3 * * *",
        },
      },
      status: {
        backup: {
          lastBackupTime: "2026-12-07T03:01:40Z",
          lastArchivedTime: "2026-12-07T09:59:00Z",
        },
        conditions: [{
          type: "ContinuousArchiving",
          status: "False",
          reason: "ArchiveFailing",
          message: "",
          lastTransitionTime: "2026-12-07T09:59:30Z",
        }],
      },
    },
    { metadata: { name: "plain", namespace: "shop" }, spec },
  ];
  const registry = new client.Registry();
  registerBackupMetrics(
    registry,
    { list: () => dbs } as unknown as ReadonlyStore<Database>,
    () => now,
  );
  const text = await registry.metrics();
  const sample = (name: string) =>
    text.split("\n").filter((l) => l.startsWith(`${name}{`)).map((l) => l.split(" ").at(-1));
  assert.deepEqual(sample("database_backup_last_success_timestamp_seconds"), [
    String(Date.parse("2026-12-07T03:01:40Z") / 1000),
  ]);
  assert.deepEqual(sample("database_backup_schedule_interval_seconds"), ["86400"]);
  assert.deepEqual(sample("database_wal_last_archived_timestamp_seconds"), [
    String(Date.parse("2026-12-07T09:59:00Z") / 1000),
  ]);
  assert.deepEqual(sample("database_wal_archive_failing"), ["1"]);
  assert.ok(!text.includes('name="plain"'));
});
