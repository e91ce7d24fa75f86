/**
 * The reconcile step for a refused restore ({@linkcode restoreRefusal}): the Database runs no
 * instance, says why in its Ready condition and records the Event once.
 *
 * @module
 */
import type { Informer } from "../../runtime/cache/mod.ts";
import type { EventRecorder } from "../../runtime/controller/mod.ts";
import type { Database } from "../api/mod.ts";
import { RESTORE_REFUSED, restoreRefusal } from "../backup/mod.ts";
import { DATABASE_POD_INDEX, type Pod, type PodProblem } from "../instances/mod.ts";

/** The Ready problem of a refused restore of `db`, or undefined. */
export function refusedRestore(
  db: Database,
  pods: Informer<Pod>,
  events: EventRecorder,
): PodProblem | undefined {
  if (!db.spec?.restore) return undefined;
  const key = `${db.metadata.namespace}/${db.metadata.name}`;
  const message = restoreRefusal(db, pods.store.list({ index: DATABASE_POD_INDEX, value: key }));
  if (message === undefined) return undefined;
  const ready = db.status?.conditions?.find((c) => c.type === "Ready");
  if (ready?.reason !== RESTORE_REFUSED) {
    events.record(db, "Warning", RESTORE_REFUSED, "Restore", `${message}: no instance runs`);
  }
  return { reason: RESTORE_REFUSED, message };
}
