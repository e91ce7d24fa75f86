/**
 * A restore that cannot work as specified (a target before the first backup or after the last
 * archived WAL, a store without backups) ends `barman.sh restore` with exit code 3. Since
 * `spec.restore` is immutable, trying again cannot help: the operator reports it (Ready False,
 * reason `RestoreRefused`, an Event) and runs no instance, instead of a restart loop. The
 * report stays in status after the pod is gone.
 *
 * @module
 */
import type { Database } from "../api/mod.ts";

/** The exit code of a refused restore (`refuse` in barman.sh). */
export const RESTORE_REFUSED_EXIT = 3;

/** The reason of the Ready condition of a refused restore. */
export const RESTORE_REFUSED = "RestoreRefused";

/** The parts of a pod read here. */
export interface RestorePod {
  status?: {
    initContainerStatuses?: {
      name: string;
      state?: { terminated?: { exitCode?: number; message?: string } };
      lastState?: { terminated?: { exitCode?: number; message?: string } };
    }[];
  };
}

/**
 * Why the restore of `db` was refused: from its restore container's exit, or from its status
 * once reported; undefined when it was not.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const db = { metadata: { name: "copy" }, spec: { restore: {} } } as never;
 * const pod = { status: { initContainerStatuses: [{ name: "restore", state: { terminated: {
 *   exitCode: 3, message: "spec.restore.targetTime is before the first recoverable point" } } }] } };
 * assert.match(restoreRefusal(db, [pod]) ?? "", /before the first recoverable point/);
 * ```
 */
export function restoreRefusal(db: Database, pods: RestorePod[]): string | undefined {
  if (!db.spec?.restore) return undefined;
  const ready = db.status?.conditions?.find((c) => c.type === "Ready");
  if (ready?.reason === RESTORE_REFUSED) return ready.message;
  for (const pod of pods) {
    const restore = pod.status?.initContainerStatuses?.find((c) => c.name === "restore");
    const ended = [restore?.state?.terminated, restore?.lastState?.terminated]
      .find((t) => t?.exitCode === RESTORE_REFUSED_EXIT);
    if (ended) return ended.message?.trim() || "The restore was refused; see the restore log";
  }
  return undefined;
}
