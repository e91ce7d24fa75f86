/**
 * Whose object is it? The operator only ever changes objects its Database controls; an object
 * with one of its names that belongs to anyone else (another tool's Secret, a Service another
 * owner controls, what an older Database of the same name left behind) is never adopted or
 * overwritten, and the Database reports it instead.
 *
 * @module
 */
import type { KubeObject } from "../../runtime/client/mod.ts";
import type { Database } from "../api/mod.ts";

/**
 * Whether `db` is the controller owner of `object` (by uid, so a Database recreated with the
 * same name does not own what the old one left).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const db = { metadata: { name: "db", uid: "u1" }, spec: {} } as never;
 * const owned = { metadata: { ownerReferences: [{ uid: "u1", controller: true }] } } as never;
 * assert.equal(controlledBy(owned, db), true);
 * assert.equal(controlledBy({ metadata: {} }, db), false);
 * ```
 */
export function controlledBy(object: KubeObject, db: Database): boolean {
  return (object.metadata.ownerReferences ?? []).some((ref) =>
    ref.controller === true && ref.uid === db.metadata.uid
  );
}

/** The `ResourceExists` message for `object`, which has our name but is not ours. */
export function foreignObjectMessage(kind: string, object: KubeObject, db: Database): string {
  const owner = (object.metadata.ownerReferences ?? []).find((ref) => ref.controller);
  const by = owner ? `controlled by ${owner.kind} ${owner.name}` : "not controlled by it";
  return `${kind} ${object.metadata.name} already exists, ${by}; Database ${db.metadata.name} ` +
    "leaves it untouched: delete or rename it";
}
