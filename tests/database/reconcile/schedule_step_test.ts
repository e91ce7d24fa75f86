/** Scheduled Backups and their retention, on fakes and a fixed clock. */
import assert from "node:assert/strict";
import type { ReadonlyStore } from "../../../src/runtime/cache/mod.ts";
import type { RequestInit } from "../../../src/runtime/client/mod.ts";
import type { Backup, Database } from "../../../src/database/api/mod.ts";
import { ensureSchedule, SCHEDULED_LABEL } from "../../../src/database/reconcile/schedule_step.ts";

const db: Database = {
  metadata: {
    name: "orders",
    namespace: "shop",
    uid: "u",
    creationTimestamp: "2026-12-01T00:00:00Z",
  },
  spec: {
    image: "postgres-operator/postgresql:17",
    replicas: 1,
    databaseName: "app",
    username: "app",
    storage: { size: "1Gi" },
    backup: {
      objectStore: { endpoint: "https://s3", bucket: "backups", secret: "s3" },
      schedule: "0 3 * * *",
      retention: "2d",
    },
  },
};

function scheduled(name: string, created: string, stoppedAt?: string): Backup {
  return {
    metadata: {
      name,
      namespace: "shop",
      creationTimestamp: created,
      labels: { [SCHEDULED_LABEL]: "orders" },
    },
    spec: { database: "orders" },
    ...(stoppedAt ? { status: { phase: "Completed", stoppedAt } } : {}),
  };
}

function run(backups: Backup[], now: string, database = db) {
  const requests: { method: string; path: string; body?: unknown }[] = [];
  const events: string[] = [];
  return ensureSchedule({
    client: {
      request: (method: string, path: string, init?: RequestInit) => {
        requests.push({ method, path, body: init?.body });
        return Promise.resolve(undefined as never);
      },
    },
    backups: { list: () => backups } as unknown as ReadonlyStore<Backup>,
    events: { record: (_o, type, reason, _a, note) => events.push(`${type} ${reason}: ${note}`) },
    now: () => new Date(now),
  }, database).then(() => ({ requests, events }));
}

Deno.test("a due time creates one Backup named after it, owned by the Database", async () => {
  const { requests, events } = await run(
    [scheduled("orders-202612060300", "2026-12-06T03:00:05Z", "2026-12-06T03:01:00Z")],
    "2026-12-07T03:00:20Z",
  );
  assert.equal(requests.length, 1);
  assert.equal(requests[0]!.method, "POST");
  assert.equal(requests[0]!.path, "/apis/database.example.com/v1/namespaces/shop/backups");
  const body = requests[0]!.body as Backup;
  assert.equal(body.metadata.name, "orders-202612070300");
  assert.equal(body.metadata.ownerReferences?.[0]?.name, "orders");
  assert.deepEqual(events, ["Normal BackupScheduled: Created Backup orders-202612070300"]);
});

Deno.test("nothing is due between the times; an invalid schedule is an Event, not a crash", async () => {
  const { requests } = await run(
    [scheduled("orders-202612070300", "2026-12-07T03:00:05Z")],
    "2026-12-07T12:00:00Z",
  );
  assert.equal(requests.length, 0);
  const bad = {
    ...db,
    spec: { ...db.spec, backup: { ...db.spec.backup!, schedule: "0 25 * * *" } },
  };
  const { requests: none, events } = await run([], "2026-12-07T12:00:00Z", bad);
  assert.equal(none.length, 0);
  assert.match(
    events[0]!,
    /^Warning InvalidSchedule: spec.backup.schedule: "25" is not a cron field/,
  );
});

Deno.test("retention deletes completed scheduled Backups past it, never the newest", async () => {
  const { requests } = await run(
    [
      scheduled("orders-202612010300", "2026-12-01T03:00:00Z", "2026-12-01T03:01:00Z"),
      scheduled("orders-202612020300", "2026-12-02T03:00:00Z", "2026-12-02T03:01:00Z"),
      scheduled("orders-202612060300", "2026-12-06T03:00:00Z", "2026-12-06T03:01:00Z"),
    ],
    "2026-12-06T12:00:00Z",
  );
  assert.deepEqual(requests.map((r) => `${r.method} ${r.path.split("/").at(-1)}`), [
    "DELETE orders-202612010300",
    "DELETE orders-202612020300",
  ]);
  const { requests: alone } = await run(
    [scheduled("orders-202612010300", "2026-12-01T03:00:00Z", "2026-12-01T03:01:00Z")],
    "2026-12-01T12:00:00Z".replace("01T12", "30T02"),
  );
  assert.ok(!alone.some((r) => r.method === "DELETE"), "the only backup stays");
});
