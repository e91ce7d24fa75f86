/**
 * What a Database's pod says about its instance, for the primary's decisions
 * ({@linkcode InstanceView}), before the node's Lease is read.
 *
 * @module
 */
import type { Database } from "../api/mod.ts";
import type { Pod } from "../instances/mod.ts";
import type { InstanceView } from "./failover.ts";

/**
 * The view of instance `name` of `db` from its cached `pod` (undefined: no pod); the node
 * fields are left for the caller, who reads the Lease only where it matters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const db = { metadata: { name: "orders" } } as never;
 * assert.equal(podView(db, "orders-0", undefined).exists, false);
 * ```
 */
export function podView(db: Database, name: string, pod: Pod | undefined): InstanceView {
  const ready = pod?.status?.conditions?.find((c) => c.type === "Ready");
  const readySince = ready?.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : undefined;
  const server = pod?.status?.containerStatuses?.find((c) => c.name === "postgres");
  const startedAt = Date.parse(
    (server?.state as { running?: { startedAt?: string } } | undefined)?.running?.startedAt ?? "",
  );
  return {
    name,
    exists: pod !== undefined && !pod.metadata.deletionTimestamp,
    terminating: pod !== undefined && Boolean(pod.metadata.deletionTimestamp),
    // The instance manager runs under the Database's ServiceAccount; a pod made for a single
    // instance runs neither.
    managed: pod?.spec?.serviceAccountName === db.metadata.name,
    ready: ready?.status === "True",
    readySince,
    // Not ready since before its server (re)started: still starting. A server that never ran,
    // or waits to be restarted after crashes, counts as starting only on its first run.
    starting: Number.isNaN(startedAt)
      ? (server?.restartCount ?? 0) === 0
      : readySince === undefined || readySince <= startedAt,
    nodeLost: false,
    nodeUnschedulable: false,
  };
}
