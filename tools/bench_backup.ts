/**
 * `deno task bench:backup`: base backup and restore of a Database of about `--gib` GiB on a real
 * node with the object store. Fills a table in chunks through `<name>`, takes a `Backup` (from
 * the primary: one instance), creates a Database restored from it to the end of the archive, and
 * prints how long each took, the database's size, and the bytes the store holds.
 *
 * ```sh
 * deno task bench:backup --gib 1
 * ```
 *
 * @module
 */
import {
  BACKUP_BUCKET,
  ControlPlane,
  eventually,
  OBJECT_STORE_ENDPOINT,
  OBJECT_STORE_SECRET,
  startOperator,
} from "./testenv/mod.ts";
import { createDatabase, VALID_SPEC } from "../tests/_support/databases.ts";
import { mustKubectl, psql } from "../tests/_support/real_node.ts";
import { collectionPath } from "../src/runtime/client/mod.ts";
import { BACKUP_RESOURCE, type Database } from "../src/database/api/mod.ts";
import { taskArgs } from "./task_args.ts";

const STORE = {
  endpoint: OBJECT_STORE_ENDPOINT,
  bucket: BACKUP_BUCKET,
  secret: OBJECT_STORE_SECRET,
};
/** Rows of about 1 KiB each, per statement (one client pod each). */
const CHUNK = 200_000;

const values = taskArgs({
  task: "bench:backup",
  summary: "a backup and a restore of G GiB to the object store, on a real node (root)",
  options: { gib: { type: "string", default: "1", value: "G", help: "GiB written first" } },
});
const gib = Number(values.gib);
if (!(gib > 0)) throw new Error("--gib must be a positive number");

await using plane = await ControlPlane.start({
  mode: "cluster",
  realNodes: 1,
  objectStore: true,
  images: ["postgres:17", "postgresql:17"],
});
await using operator = await startOperator(plane);
await operator.ready();
const kubectl = mustKubectl(plane);
const size = `${Math.ceil(gib * 3) + 1}Gi`;
const ready = async (name: string) => {
  let last: Database | undefined;
  await eventually(
    async () => {
      last = JSON.parse(await kubectl(["get", "database", name, "-o", "json"]));
      return last?.status?.ready === true;
    },
    `${name} Ready`,
    { timeoutMs: 1_800_000, intervalMs: 1000, describe: () => last?.status },
  );
};
const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(1);

await createDatabase(plane.client, "default", "big", {
  ...VALID_SPEC,
  image: "postgres-operator/postgresql:17",
  storage: { size },
  backup: { objectStore: STORE },
});
await ready("big");
const sql = (text: string, secret = "big-credentials") => psql(plane, text, { secret });
await eventually(
  () => sql("CREATE TABLE big (id int, pad text)").then(() => true, () => false),
  "table",
  {
    timeoutMs: 60_000,
    intervalMs: 1000,
  },
);
let started = performance.now();
const rows = Math.round(gib * 1024 * 1024);
for (let from = 1; from <= rows; from += CHUNK) {
  const to = Math.min(rows, from + CHUNK - 1);
  await sql(
    `INSERT INTO big SELECT g, repeat(md5(g::text), 30) FROM generate_series(${from}, ${to}) g`,
  );
}
const dbBytes = Number(await sql("SELECT pg_database_size(current_database())"));
console.log(`filled ${rows} rows, ${(dbBytes / 2 ** 30).toFixed(2)} GiB, in ${seconds(started)} s`);

started = performance.now();
await plane.client.request("POST", collectionPath(BACKUP_RESOURCE, "default"), {
  body: {
    apiVersion: "database.example.com/v1",
    kind: "Backup",
    metadata: { name: "bench" },
    spec: { database: "big" },
  },
});
let phase = "";
await eventually(
  async () => {
    phase = JSON.parse(await kubectl(["get", "backup", "bench", "-o", "json"])).status?.phase ?? "";
    return phase === "Completed" || phase === "Failed";
  },
  "backup finished",
  { timeoutMs: 1_800_000, intervalMs: 1000 },
);
if (phase !== "Completed") throw new Error(`backup ${phase}`);
console.log(`base backup: ${seconds(started)} s from creating the Backup to Completed`);
await sql("SELECT pg_switch_wal()");
let storeBytes = 0;
const walk = (dir: string) => {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) walk(path);
    else if (entry.isFile) storeBytes += Deno.statSync(path).size;
  }
};
walk(`${plane.objectStore.dataDir}/${BACKUP_BUCKET}/default/big`);
console.log(`store: ${(storeBytes / 2 ** 30).toFixed(2)} GiB under default/big (backup and WAL)`);

started = performance.now();
await createDatabase(plane.client, "default", "copy", {
  ...VALID_SPEC,
  image: "postgres-operator/postgresql:17",
  storage: { size },
  restore: { objectStore: { ...STORE, path: "default/big" } },
});
await ready("copy");
console.log(`restore: ${seconds(started)} s from creating the Database to Ready`);
const copied = await sql("SELECT count(*) FROM big", "copy-credentials");
console.log(`restored rows: ${copied} of ${rows}`);
