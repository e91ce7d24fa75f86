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
