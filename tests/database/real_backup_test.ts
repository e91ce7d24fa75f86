/**
 * Backups on a real node with the object store: a Database of the project's image archives its
 * WAL and takes a base backup from its standby on request; a new Database restored to a time
 * between two commits has the first and not the second; one restored to the end of the
 * archive, after the source and its volumes are gone, has every committed row and its own
 * credentials.
 */
import assert from "node:assert/strict";
import {
  BACKUP_BUCKET,
  ControlPlane,
  eventually,
  OBJECT_STORE_ENDPOINT,
  OBJECT_STORE_SECRET,
  startOperator,
} from "../../tools/testenv/mod.ts";
import { mustKubectl, psql, realNodeTest } from "../_support/real_node.ts";
import { createDatabase, VALID_SPEC } from "../_support/databases.ts";
import { HaDatabase } from "../_support/ha.ts";
import { expectRefused, explainRestore, stageExpiredBackups } from "../_support/restores.ts";
import { type Backup, BACKUP_RESOURCE, type Database } from "../../src/database/api/mod.ts";
import { collectionPath } from "../../src/runtime/client/mod.ts";

const IMAGE = "postgres-operator/postgresql:17";
const SCHEDULED_FOR = "database.example.com/scheduled-for";
/**
 * Ends the current WAL segment now and names it. A record of its own first: with nothing
 * written since the last switch (archive_timeout's, say) pg_switch_wal() does nothing, and the
 * segment it names would wait for the next checkpoint to be complete.
 */
const ARCHIVE_NOW =
  "SELECT pg_walfile_name(pg_switch_wal()) FROM (SELECT pg_logical_emit_message(false, 'test', '')) m";
const STORE = {
  endpoint: OBJECT_STORE_ENDPOINT,
  bucket: BACKUP_BUCKET,
  secret: OBJECT_STORE_SECRET,
};

realNodeTest(
  "backups: archiving, a Backup from the standby, restores to a time and to the end",
  async (t) => {
    await using plane = await ControlPlane.start({
      mode: "cluster",
      realNodes: 1,
      objectStore: true,
      images: ["postgres:17", "postgresql:17"],
    });
    await using operator = await startOperator(plane);
    await operator.ready();
    const kubectl = mustKubectl(plane);
    const get = async <T>(kind: string, name: string) =>
      JSON.parse(await kubectl(["get", kind, name, "-o", "json"])) as T;
    const ready = (name: string, timeoutMs = 300_000) => {
      let last: Database | undefined;
      return eventually(
        async () => (last = await get<Database>("database", name)).status?.ready === true,
        `${name} Ready`,
        { timeoutMs, intervalMs: 1000, describe: () => last?.status },
      );
    };
    const sql = (secret: string, text: string) => psql(plane, text, { secret });
    const rows = (secret: string) => sql(secret, "SELECT string_agg(tag, ',' ORDER BY tag) FROM t");
    const timed = async <T>(label: string, fn: () => Promise<T>) => {
      const started = performance.now();
      const result = await fn();
      console.log(`${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return result;
    };

    await createDatabase(plane.client, "default", "orders", {
      ...VALID_SPEC,
      image: IMAGE,
      replicas: 2,
      storage: { size: "1Gi" },
      backup: { objectStore: STORE, archiveTimeout: "10s", retention: "30d" },
    });
    await ready("orders");
    let target = "";

    await t.step(
      "rows A, a Backup taken from the standby, a switchover, row B, the time T, row C",
      async () => {
        await eventually(
          () =>
            sql("orders-credentials", "CREATE TABLE t (tag text); INSERT INTO t VALUES ('A')")
              .then(() => true, () => false),
          "table created through orders",
          { timeoutMs: 60_000, intervalMs: 1000 },
        );
        await plane.client.request("POST", collectionPath(BACKUP_RESOURCE, "default"), {
          body: {
            apiVersion: "database.example.com/v1",
            kind: "Backup",
            metadata: { name: "first" },
            spec: { database: "orders" },
          },
        });
        let backup: Backup | undefined;
        await timed("base backup", () =>
          eventually(
            async () =>
              ["Completed", "Failed"].includes(
                (backup = await get<Backup>("backup", "first")).status?.phase ?? "",
              ),
            "backup first finished",
            { timeoutMs: 300_000, intervalMs: 1000, describe: () => backup?.status },
          ));
        assert.equal(backup!.status?.phase, "Completed", JSON.stringify(backup!.status));
        assert.equal(backup!.status?.instance, "orders-1", "taken from the standby");
        assert.ok((backup!.status?.size ?? 0) > 0);
        assert.match(backup!.status?.beginWal ?? "", /^[0-9A-F]{24}$/);
        // A new timeline between the backup and T: the restores follow its history.
        await new HaDatabase(plane, "orders", "orders-credentials").switchover("orders-1", 1);
        await eventually(
          async () =>
            (await sql("orders-credentials", "SELECT pg_walfile_name(pg_current_wal_lsn())"))
              .startsWith("00000002"),
          "orders writes on timeline 2 through its Service",
          { timeoutMs: 60_000, intervalMs: 1000 },
        );
        await sql("orders-credentials", "INSERT INTO t VALUES ('B')");
        target = await sql(
          "orders-credentials",
          `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
        );
        assert.match(target, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
        await sql("orders-credentials", "INSERT INTO t VALUES ('C')");
        // The segment holding C (or a later one) goes to the store now, not at archiveTimeout.
        const segment = await sql("orders-credentials", ARCHIVE_NOW);
        await eventually(
          async () =>
            (await plane.objectStore.list(BACKUP_BUCKET, "default/orders/wals/"))
              .some((key) => key.includes(segment)),
          `segment ${segment} archived`,
          { timeoutMs: 120_000, intervalMs: 1000 },
        );
      },
    );

    await t.step(
      "a scheduled Backup, owned by the Database; retention drops what expired",
      async () => {
        const firstId = (await get<Backup>("backup", "first")).status!.backupId!;
        const retention = await stageExpiredBackups(plane.objectStore, "default/orders", firstId);
        const patch = (schedule: string | null) => {
          const body = JSON.stringify({ spec: { backup: { schedule } } });
          return kubectl(["patch", "database", "orders", "--type=merge", "-p", body]);
        };
        await patch("* * * * *");
        let scheduled: Backup[] = [];
        try {
          await eventually(
            async () => {
              scheduled = (JSON.parse(
                await kubectl(["get", "backups", "-l", `${SCHEDULED_FOR}=orders`, "-o", "json"]),
              ) as { items: Backup[] }).items;
              return scheduled.some((b) => b.status?.phase === "Completed");
            },
            "a scheduled Backup completed",
            {
              timeoutMs: 300_000,
              intervalMs: 2000,
              describe: () => scheduled.map((b) => b.status),
            },
          );
        } finally {
          await patch(null);
        }
        assert.equal(scheduled[0]!.metadata.ownerReferences?.[0]?.name, "orders");
        await retention.check();
      },
    );

    const outageRows: string[] = [];
    await t.step(
      "the store stops under writes: ContinuousArchiving goes False, then True, no WAL lost",
      async () => {
        const archiving = async () =>
          (await get<Database>("database", "orders")).status?.conditions
            ?.find((c) => c.type === "ContinuousArchiving")?.status;
        await eventually(async () => await archiving() === "True", "archiving True", {
          timeoutMs: 120_000,
          intervalMs: 1000,
        });
        await plane.objectStore.interrupt();
        try {
          const started = performance.now();
          // Writes go on, each in a segment of its own, until the operator reports the failure
          // (and for BACKUP_OUTAGE_SECONDS, to stage a longer outage by hand).
          const outageMs = Number(Deno.env.get("BACKUP_OUTAGE_SECONDS") ?? "0") * 1000;
          let falseAt = 0;
          while (
            (falseAt ||= await archiving() === "False" ? performance.now() : 0) === 0 ||
            performance.now() - started < outageMs
          ) {
            const tag = `D${outageRows.length + 1}`;
            await sql("orders-credentials", `INSERT INTO t VALUES ('${tag}')`);
            outageRows.push(tag);
            await sql("orders-credentials", "SELECT pg_switch_wal()");
            if (performance.now() - started > 300_000 + outageMs) {
              throw new Error("archiving never went False");
            }
          }
          console.log(
            `${outageRows.length} rows written in an outage of ${
              ((performance.now() - started) / 1000).toFixed(1)
            } s; ContinuousArchiving False after ${((falseAt - started) / 1000).toFixed(1)} s`,
          );
        } finally {
          await plane.objectStore.resume();
        }
        const resumed = performance.now();
        await eventually(async () => await archiving() === "True", "archiving True again", {
          timeoutMs: 180_000,
          intervalMs: 1000,
        });
        console.log(
          `ContinuousArchiving True ${
            ((performance.now() - resumed) / 1000).toFixed(1)
          } s after the store came back`,
        );
        const segment = await sql("orders-credentials", ARCHIVE_NOW);
        await eventually(
          async () =>
            (await plane.objectStore.list(BACKUP_BUCKET, "default/orders/wals/"))
              .some((key) => key.includes(segment)),
          `segment ${segment} archived after the outage`,
          { timeoutMs: 120_000, intervalMs: 1000 },
        );
        assert.ok(outageRows.length > 0);
      },
    );

    await t.step(
      "restored to T: A and B, not C; before the first backup or after the last WAL: refused, no loop",
      async () => {
        const atT = async () => {
          await createDatabase(plane.client, "default", "at-t", {
            ...VALID_SPEC,
            image: IMAGE,
            username: "owner",
            storage: { size: "1Gi" },
            restore: { objectStore: { ...STORE, path: "default/orders" }, targetTime: target },
          });
          await timed("restore to T", () => ready("at-t"));
          const found = await rows("at-t-credentials");
          if (found !== "A,B" || Deno.env.get("BACKUP_TEST_VERBOSE")) {
            console.log(`rows ${found}; target ${target}`);
            await explainRestore(plane, "at-t", "default/orders");
          }
          assert.equal(found, "A,B");
        };
        const source = { image: IMAGE, objectStore: { ...STORE, path: "default/orders" } };
        await Promise.all([
          atT(),
          expectRefused(
            plane,
            source,
            "too-early",
            "2020-01-01T00:00:00Z",
            /before the first recoverable point/,
          ),
          expectRefused(
            plane,
            source,
            "too-late",
            new Date(Date.now() + 86_400_000).toISOString(),
            /after the last archived WAL/,
          ),
        ]);
      },
    );

    await t.step(
      "after the source and its volumes are gone, a restore to the end has every row",
      async () => {
        await kubectl(["delete", "database", "orders", "--wait=true"]);
        await kubectl(["delete", "pvc", "-l", "database=orders", "--wait=true"]);
        await createDatabase(plane.client, "default", "latest", {
          ...VALID_SPEC,
          image: IMAGE,
          username: "owner",
          storage: { size: "1Gi" },
          restore: { objectStore: { ...STORE, path: "default/orders" } },
        });
        await timed("restore to the end", () => ready("latest"));
        assert.equal(
          await rows("latest-credentials"),
          ["A", "B", "C", ...outageRows].sort().join(","),
        );
      },
    );
  },
);
