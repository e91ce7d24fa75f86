/**
 * Whether a node is alive, from its kubelet's Lease in `kube-node-lease`: a kubelet renews it
 * every quarter of its `leaseDurationSeconds` (10 s of the default 40 s). A node whose Lease is
 * older than that interval plus {@linkcode FENCE_BUDGET_MS} is lost for failover: either dead, or
 * cut off, and then its primary has stopped itself by now. This is much sooner than the
 * node-lifecycle controller, which waits 50 s by default before it marks the node NotReady.
 *
 * @module
 */
import { ApiError, CORE, type KubeClient, objectPath } from "../../runtime/client/mod.ts";
import { FENCE_BUDGET_MS } from "./failover.ts";

/** A coordination.k8s.io/v1 Lease, as far as it is read here. */
export interface NodeLease {
  spec?: { renewTime?: string; leaseDurationSeconds?: number };
}

/** What a node's Lease says at `now`. */
export interface NodeLiveness {
  lost: boolean;
  /** When it counts (or will count) as lost, in ms since the epoch. */
  lostAt: number;
}

/**
 * Reads `lease` at `now`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const lease = { spec: { renewTime: "2026-01-01T00:00:00.000000Z", leaseDurationSeconds: 40 } };
 * const renewed = Date.parse("2026-01-01T00:00:00Z");
 * assert.equal(nodeLiveness(lease, renewed + 19_000).lost, false);
 * assert.equal(nodeLiveness(lease, renewed + 20_000).lost, true);
 * ```
 */
export function nodeLiveness(lease: NodeLease | undefined, now: number): NodeLiveness {
  const renewed = Date.parse(lease?.spec?.renewTime ?? "");
  if (Number.isNaN(renewed)) return { lost: false, lostAt: Infinity };
  const interval = (lease?.spec?.leaseDurationSeconds ?? 40) * 250;
  const lostAt = renewed + interval + FENCE_BUDGET_MS;
  return { lost: now >= lostAt, lostAt };
}

/** The Lease of `node`; undefined when it is missing or may not be read (then: not lost). */
export async function readNodeLease(
  client: KubeClient,
  node: string,
  signal?: AbortSignal,
): Promise<NodeLease | undefined> {
  try {
    return await client.request<NodeLease>(
      "GET",
      objectPath(CORE.leases, "kube-node-lease", node),
      { signal },
    );
  } catch (error) {
    if (error instanceof ApiError && (error.code === 404 || error.code === 403)) return undefined;
    throw error;
  }
}

/** Whether `node` is cordoned (`spec.unschedulable`, as `kubectl drain` sets first). */
export async function nodeCordoned(
  client: KubeClient,
  node: string,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    const found = await client.request<{ spec?: { unschedulable?: boolean } }>(
      "GET",
      `/api/v1/nodes/${encodeURIComponent(node)}`,
      { signal },
    );
    return found.spec?.unschedulable === true;
  } catch (error) {
    if (error instanceof ApiError && (error.code === 404 || error.code === 403)) return false;
    throw error;
  }
}
