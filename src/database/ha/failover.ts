/**
 * Who should be the primary, decided from what the operator sees: a pure state machine over the
 * instances' pods and nodes, tested on virtual time. `ensure_primary.ts` carries out what it
 * returns; the instances follow `status.currentPrimary` and `status.targetPrimary`
 * (`instances/instance_manager.sh`).
 *
 * A change of primary goes in two writes, so that the old primary has stopped before the new
 * one accepts a write:
 * 1. `targetPrimary = T`: the old primary's instance stops its server (cleanly for a
 *    switchover, at once when it is failing); standbys start to follow T.
 * 2. `currentPrimary = T`, once the old primary no longer answers, or its pod is gone, or its
 *    node is lost (an isolated primary stops itself within {@linkcode FENCE_BUDGET_MS}, see
 *    below): T's instance promotes itself, and `<name>` selects it. An old primary that still
 *    answers after {@linkcode FENCE_GRACE_MS}, or that runs no instance manager (a pod made
 *    for one instance), has its pod deleted first; it is never promoted over while it serves.
 *    `targetPrimary` is cleared once T answers as a primary.
 *
 * The primary is lost when its pod is gone, or not ready after having served (not while it
 * starts, nor while it restarts promptly after a crash), or when its node's Lease has not been
 * renewed for a renew interval plus the fence budget: a kubelet renews every quarter of the
 * Lease's duration, so detection does not wait for the node-lifecycle controller's grace
 * period. Then `spec.failoverDelay` more seconds, and the most advanced standby is promoted.
 *
 * @module
 */

/** What the operator knows of one instance. */
export interface InstanceView {
  name: string;
  /** The pod exists (and is not being deleted). */
  exists: boolean;
  /** The pod is being deleted: its server may still run until the pod is gone. */
  terminating?: boolean;
  /**
   * Its pod runs the instance manager, which stops the server when the instance loses the
   * primary role. A pod made for a single instance does not: only deleting it stops it.
   */
  managed?: boolean;
  /** Its Ready condition is True. */
  ready: boolean;
  /** When Ready last changed (ms since the epoch), if known. */
  readySince?: number | undefined;
  /**
   * Not ready only because its server has not started or not yet been ready since it started
   * (a new pod, a prompt restart): not a lost primary.
   */
  starting?: boolean;
  /** Its node's kubelet has not renewed the node's Lease in time: the node is gone or cut off. */
  nodeLost: boolean;
  /** When the node counts as lost since (ms), if lost. */
  nodeLostSince?: number | undefined;
  /** The node is cordoned (a drain): the primary should move. */
  nodeUnschedulable: boolean;
}

/** The HA part of a Database's status and spec, and the switchover asked for. */
export interface PrimaryState {
  current: string;
  target?: string | undefined;
  /** When the operator wrote `target` (ms); unknown after an operator restart. */
  targetSince?: number | undefined;
  /** `database.example.com/target-primary`, if set. */
  requested?: string | undefined;
  /** `spec.failoverDelay` in seconds. */
  failoverDelay: number;
}

/** How long an isolated primary takes at most to stop itself (instance_manager.sh). */
export const FENCE_BUDGET_MS = 10_000;
/** How long a live instance takes at most to see a new target and stop its server. */
export const FENCE_GRACE_MS = 8_000;

/** What the caller asked the instances themselves while a change of primary is under way. */
export interface PrimaryProbes {
  oldStopped?: boolean;
  targetAnswers?: boolean;
  targetIsPrimary?: boolean;
}

/** What to do now. */
export type PrimaryDecision =
  | { kind: "steady"; recheckAfterMs?: number }
  /** Promote the most advanced standby; `fenced`: the old primary is known stopped. */
  | { kind: "failover"; reason: string; message: string; fenced: boolean }
  /** Move the primary to `to` (or to the best ready standby when undefined), cleanly. */
  | { kind: "switchover"; to?: string; reason: string; message: string }
  /** Wait: the old primary may still run. */
  | { kind: "fencing"; recheckAfterMs: number }
  /** The old primary still serves and will not stop by itself: delete its pod. */
  | { kind: "stop"; pod: string; reason: string }
  /** Step 2: `currentPrimary = target`. */
  | { kind: "promote"; target: string }
  /** The target can no longer take over before it was promoted: clear `targetPrimary`. */
  | { kind: "abandon"; target: string }
  /** The target answers as primary: clear `targetPrimary`. */
  | { kind: "complete"; target: string }
  /** A switchover request that cannot be carried out. */
  | { kind: "refused"; message: string };

/**
 * The next step for a Database with standbys. `oldStopped` says whether the old primary has
 * stopped serving as a primary (probed only while a target is set); `targetAnswers`
 * whether a target that is not ready still answers as a standby; `targetIsPrimary` whether the
 * target answers as a primary.
 */
export function decidePrimary(
  state: PrimaryState,
  instances: InstanceView[],
  now: number,
  probes: PrimaryProbes = {},
): PrimaryDecision {
  const byName = new Map(instances.map((i) => [i.name, i]));
  const primary = byName.get(state.current);
  if (state.target && state.target !== state.current) {
    const next = byName.get(state.target);
    // A standby is ready while it streams, so the target turns not ready when the old primary
    // stops for a switchover; while its server still answers as a standby it can take over.
    const answers = next?.ready || probes.targetAnswers === true;
    if (!next?.exists || next.terminating || next.nodeLost || !answers) {
      // Gone or failing before it took over (evicted, its node lost): choose again.
      return { kind: "abandon", target: state.target };
    }
    // A terminating pod's server may still serve the sessions it has (a smart shutdown):
    // stopped only once its pod is gone.
    const gone = !primary || (!primary.exists && !primary.terminating);
    const fenced = gone || primary.nodeLost ||
      (probes.oldStopped === true && !primary.terminating);
    if (fenced) return { kind: "promote", target: state.target };
    const since = state.targetSince ?? now;
    if (primary.exists && (primary.managed === false || now - since >= FENCE_GRACE_MS)) {
      return {
        kind: "stop",
        pod: state.current,
        reason: primary.managed === false
          ? "it runs no instance manager to stop it"
          : `it still serves ${FENCE_GRACE_MS / 1_000} s after losing the role`,
      };
    }
    // Asked again every half second: a live old primary stops within one of its polls.
    return {
      kind: "fencing",
      recheckAfterMs: Math.max(100, Math.min(500, since + FENCE_GRACE_MS - now)),
    };
  }
  if (state.target) {
    if (probes.targetIsPrimary) return { kind: "complete", target: state.target };
    // Promoted, but lost before it answered as the primary: failed over like any primary.
    if (!lostSince(primary, now)) return { kind: "steady", recheckAfterMs: 1_000 };
  }
  // A missing primary pod is lost only once the database has served: at creation no pod is.
  const served = instances.some((i) => i.name !== state.current && i.ready);
  const lost = !primary?.exists && !served ? undefined : lostSince(primary, now);
  if (lost !== undefined) {
    const at = lost.since + state.failoverDelay * 1_000;
    if (now < at) return { kind: "steady", recheckAfterMs: at - now };
    return {
      kind: "failover",
      reason: lost.reason,
      message: `The primary ${state.current} is lost: ${lost.message}`,
      fenced: lost.fenced,
    };
  }
  if (state.requested && state.requested !== state.current) {
    const to = byName.get(state.requested);
    if (!to?.exists) {
      return {
        kind: "refused",
        message: `Pod ${state.requested} is not an instance of this database`,
      };
    }
    if (!to.ready || to.nodeLost) {
      return { kind: "refused", message: `Pod ${state.requested} is not ready to take over` };
    }
    return {
      kind: "switchover",
      to: state.requested,
      reason: "SwitchoverRequested",
      message: `Switching the primary from ${state.current} to ${state.requested} as asked`,
    };
  }
  if (primary?.nodeUnschedulable) {
    const fit = instances.some((i) =>
      i.name !== state.current && i.ready && !i.nodeLost && !i.nodeUnschedulable
    );
    if (fit) {
      return {
        kind: "switchover",
        reason: "NodeDraining",
        message: `The node of the primary ${state.current} is cordoned: moving the primary`,
      };
    }
  }
  return { kind: "steady" };
}

function lostSince(
  primary: InstanceView | undefined,
  now: number,
): { since: number; reason: string; message: string; fenced: boolean } | undefined {
  if (!primary?.exists) {
    return { since: now, reason: "PrimaryPodMissing", message: "its pod is gone", fenced: true };
  }
  if (primary.nodeLost) {
    return {
      since: primary.nodeLostSince ?? now,
      reason: "NodeLost",
      message: "its node stopped renewing its Lease",
      fenced: true,
    };
  }
  if (!primary.ready && !primary.starting) {
    return {
      since: primary.readySince ?? now,
      reason: "PrimaryNotReady",
      message: "its pod is not ready",
      fenced: false,
    };
  }
  return undefined;
}
