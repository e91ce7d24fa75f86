/**
 * Rolling a change of the pod template (image, resources, settings that need a restart) through
 * a Database with standbys, the switchover-safe way: its StatefulSet uses the `OnDelete`
 * strategy, so no pod restarts until the operator deletes it, and the operator deletes one
 * standby at a time (only while every instance is ready), then switches the primary over to an
 * updated standby, and then restarts the former primary, now a standby. The primary is never
 * restarted while a standby could take over.
 *
 * @module
 */

/** One instance as the rolling update sees it. */
export interface RollingInstance {
  name: string;
  ready: boolean;
  /** Its `controller-revision-hash` label. */
  revision?: string | undefined;
}

/** The next step of a rolling update. */
export type RollingStep =
  | { kind: "none" }
  | { kind: "restart"; pod: string }
  | { kind: "switchover" };

/**
 * What to do next to bring every instance to `updateRevision`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const pods = [
 *   { name: "db-0", ready: true, revision: "old" },
 *   { name: "db-1", ready: true, revision: "new" },
 * ];
 * assert.deepEqual(nextRollingStep(pods, "new", "db-0"), { kind: "switchover" });
 * ```
 */
export function nextRollingStep(
  instances: RollingInstance[],
  updateRevision: string | undefined,
  primary: string,
): RollingStep {
  if (!updateRevision) return { kind: "none" };
  const outdated = instances.filter((i) =>
    i.revision !== undefined && i.revision !== updateRevision
  );
  if (outdated.length === 0) return { kind: "none" };
  // One at a time: the next only once every instance serves again.
  if (instances.some((i) => !i.ready)) return { kind: "none" };
  const standby =
    outdated.filter((i) => i.name !== primary).sort((a, b) => a.name < b.name ? 1 : -1)[0];
  if (standby) return { kind: "restart", pod: standby.name };
  const updated = instances.some((i) => i.name !== primary && i.revision === updateRevision);
  return updated ? { kind: "switchover" } : { kind: "restart", pod: primary };
}
