/**
 * Restores from the harness's object store, as the backup tests make them: a Database whose
 * target is refused, and what to print when a restored Database has other rows than expected.
 */
import assert from "node:assert/strict";
import { BACKUP_BUCKET, type ControlPlane, eventually } from "../../tools/testenv/mod.ts";
import type { Database } from "../../src/database/api/mod.ts";
import { mustKubectl, psql } from "./real_node.ts";
import { createDatabase, VALID_SPEC } from "./databases.ts";

/** Where a restored Database reads its backups: the harness's store, at `path`. */
export interface RestoreSource {
  objectStore: { endpoint: string; bucket: string; secret: string; path: string };
  image: string;
}

/**
 * Creates `name` restored to `targetTime` and waits until Ready says `RestoreRefused` with a
 * message matching `why`; then checks that nothing runs or restarts and that an Event says so,
 * and deletes the Database and its claims.
 */
export async function expectRefused(
  plane: ControlPlane,
  source: RestoreSource,
  name: string,
  targetTime: string,
  why: RegExp,
): Promise<void> {
  const kubectl = mustKubectl(plane);
  const get = async <T>(kind: string) =>
    JSON.parse(await kubectl(["get", kind, name, "-o", "json"])) as T;
  await createDatabase(plane.client, "default", name, {
    ...VALID_SPEC,
    image: source.image,
    storage: { size: "1Gi" },
    restore: { objectStore: source.objectStore, targetTime },
  });
  let last: Database | undefined;
  await eventually(
    async () => {
      last = await get<Database>("database");
      const ready = last.status?.conditions?.find((c) => c.type === "Ready");
      return ready?.reason === "RestoreRefused" && why.test(ready.message);
    },
    `${name} reports the refused target`,
    { timeoutMs: 180_000, intervalMs: 1000, describe: () => last?.status },
  );
  assert.equal(last!.status?.phase, "Failed");
  // No instance runs, so none restarts: the StatefulSet is scaled to none.
  await eventually(
    async () => (await get<{ spec: { replicas: number } }>("statefulset")).spec.replicas === 0,
    `${name} runs no instance`,
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
  const events = await kubectl([
    "get",
    "events",
    "--field-selector",
    `involvedObject.name=${name},reason=RestoreRefused`,
    "-o",
    "name",
  ]);
  assert.notEqual(events.trim(), "", "an Event says so");
  await kubectl(["delete", "database", name, "--wait=true"]);
  await kubectl(["delete", "pvc", "-l", `database=${name}`, "--wait=true"]);
}

/**
 * Prints what tells a wrong restore from a query that reached another server: the server that
 * answered through `<name>-credentials`, the pods, endpoints and Backups, the restore's and the
 * server's logs, and the base backups in the store under `path`.
 */
export async function explainRestore(
  plane: ControlPlane,
  name: string,
  path: string,
): Promise<void> {
  const kubectl = mustKubectl(plane);
  const show = (args: string[]) => kubectl(args).catch(String);
  const answered = await psql(
    plane,
    "SELECT inet_server_addr(), pg_postmaster_start_time(), timeline_id, current_user " +
      "FROM pg_control_checkpoint()",
    { secret: `${name}-credentials` },
  ).catch(String);
  console.log(`the server that answered through ${name}-credentials: ${answered}`);
  console.log(await show(["get", "pods,endpointslices,backups", "-o", "wide"]));
  console.log(await show(["get", "pod", `${name}-0`, "-o", "jsonpath={.status}"]));
  console.log("the restore's log:", await show(["logs", `${name}-0`, "-c", "restore"]));
  console.log("the server's log:", await show(["logs", `${name}-0`, "-c", "postgres"]));
  console.log((await plane.objectStore.list(BACKUP_BUCKET, `${path}/base/`)).join("\n"));
}

/** A backup to stage in the store as if it had been taken long ago. */
export interface AgedBackup {
  /** Its barman backup ID, `YYYYMMDDTHHMMSS`. */
  id: string;
  /** When it began and ended, as barman writes times: `2020-06-01 00:00:00+00:00`. */
  time: string;
  /** The first WAL segment it needs. */
  beginWal: string;
}

/**
 * Copies the real base backup `from` under `<path>/base/` to `aged.id`, with its times and first
 * WAL segment rewritten, so that retention (barman's own, against the real store) sees a backup
 * that old; the store cannot be aged otherwise.
 */
export async function stageAgedBackup(
  store: ControlPlane["objectStore"],
  path: string,
  from: string,
  aged: AgedBackup,
): Promise<void> {
  const key = (id: string, file: string) => `/${BACKUP_BUCKET}/${path}/base/${id}/${file}`;
  const got = await store.request(key(from, "backup.info"));
  if (!got.ok) throw new Error(`GET backup.info of ${from}: ${got.status}`);
  const info = (await got.text())
    .replace(/^backup_id=.*$/m, `backup_id=${aged.id}`)
    .replace(/^backup_name=.*$/m, `backup_name=aged-${aged.id}`)
    .replace(/^(begin|end)_time=.*$/gm, (_, which) => `${which}_time=${aged.time}`)
    .replace(/^begin_wal=.*$/m, `begin_wal=${aged.beginWal}`);
  const put = await store.request(key(aged.id, "backup.info"), { method: "PUT", body: info });
  if (!put.ok) throw new Error(`PUT backup.info of ${aged.id}: ${put.status} ${await put.text()}`);
  const copied = await store.request(key(aged.id, "data.tar"), {
    method: "PUT",
    headers: { "x-amz-copy-source": key(from, "data.tar") },
  });
  if (!copied.ok) throw new Error(`CopyObject data.tar: ${copied.status} ${await copied.text()}`);
}

/**
 * Stages what retention must sort out, from the real backup `firstId` under `<path>`: copies of
 * it aged to 2020-06 (needing WAL segment 1, archived or staged) and 2020-07 (needing 2 on).
 * `check()`, after a backup with `retention: 30d` ran, asserts that 2020-06 and segment 1 are
 * gone while 2020-07, which the window's start needs, the real backup and segment 2 stay.
 */
export async function stageExpiredBackups(
  store: ControlPlane["objectStore"],
  path: string,
  firstId: string,
): Promise<{ check(): Promise<void> }> {
  const [oldWal, keptWal] = ["000000010000000000000001", "000000010000000000000002"];
  const wals = await store.list(BACKUP_BUCKET, `${path}/wals/`);
  const kept = wals.find((k) => k.endsWith(keptWal));
  assert.ok(kept, `${keptWal} archived: ${wals}`);
  if (!wals.some((k) => k.endsWith(oldWal))) {
    const copied = await store.request(`/${BACKUP_BUCKET}/${kept.replace(keptWal, oldWal)}`, {
      method: "PUT",
      headers: { "x-amz-copy-source": `/${BACKUP_BUCKET}/${kept}` },
    });
    assert.ok(copied.ok, `CopyObject ${oldWal}: ${copied.status}`);
  }
  const older = { id: "20200601T000000", time: "2020-06-01 00:00:00+00:00", beginWal: oldWal };
  const newer = { id: "20200701T000000", time: "2020-07-01 00:00:00+00:00", beginWal: keptWal };
  await stageAgedBackup(store, path, firstId, older);
  await stageAgedBackup(store, path, firstId, newer);
  return {
    async check() {
      const bases = (await store.list(BACKUP_BUCKET, `${path}/base/`))
        .filter((k) => k.endsWith("/backup.info")).map((k) => k.split("/").at(-2)!).sort();
      assert.ok(!bases.includes(older.id), `the expired backup is gone: ${bases}`);
      assert.ok(bases.includes(newer.id), `the one the window's start needs stays: ${bases}`);
      assert.ok(bases.includes(firstId), `the real backup stays: ${bases}`);
      const left = await store.list(BACKUP_BUCKET, `${path}/wals/`);
      assert.ok(!left.some((k) => k.endsWith(oldWal)), `${oldWal}, needed by none, is gone`);
      assert.ok(left.some((k) => k.endsWith(keptWal)), `${keptWal} stays`);
    },
  };
}
