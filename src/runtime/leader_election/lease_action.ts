/**
 * The options of a leader election, the error of a lost leadership, and the pure decision a
 * candidate takes on the Lease it read (tested without a clock or a server).
 *
 * @module
 */
import type { EventRecorder } from "../controller/mod.ts";
import type { Logger, RuntimeMetrics } from "../observability/mod.ts";
import type { Clock } from "../time/mod.ts";
import type { Lease, LeaseLock } from "./lease_lock.ts";

/** Options for `LeaderElector`. Defaults are controller-runtime's. */
export interface LeaderElectorOptions {
  /**
   * The Lease; in production a `KubeLeaseLock`, preferably on a client of its own so a
   * reconcile burst cannot delay renewals.
   */
  lock: LeaseLock;
  /** Unique per process. @default `${POD_NAME ?? HOSTNAME}_${random UUID}` */
  identity?: string;
  /** How long followers wait after the last renewal they saw. Whole seconds in the Lease. @default 15_000 */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a renewal before it gives up. @default 10_000 */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. @default 2_000 */
  retryPeriodMs?: number;
  logger: Logger;
  /** Keeps `leader_election_master_status{name}` at 1 while leading, else 0. */
  metrics?: RuntimeMetrics;
  /** Records a "became leader" Event on the Lease. */
  events?: Pick<EventRecorder, "record">;
  /** Source of (monotonic) time for every wait and deadline. @default {realClock} */
  clock?: Clock;
  /** Source of the retry jitter, in [0, 1). @default {Math.random} */
  random?: () => number;
}

/** Leadership was lost while leading. Not retryable: the process should exit and start over. */
export class LeadershipLostError extends Error {
  override name = "LeadershipLostError";
}

/**
 * What a candidate does with the Lease it just read (the decision inside client-go's
 * `tryAcquireOrRenew`): `create` it when there is none, `renew` its own hold, `take` it when it
 * has no holder or the holder's record has not changed for its `leaseDurationSeconds`, else
 * `wait`.
 *
 * @param lease The Lease as read; `undefined` when it does not exist.
 * @param identity This candidate's identity.
 * @param observedAtMs When this candidate first saw the Lease's current record (monotonic).
 * @param nowMs Now, on the same clock.
 */
export function leaseAction(
  lease: Lease | undefined,
  identity: string,
  observedAtMs: number,
  nowMs: number,
): "create" | "renew" | "take" | "wait" {
  if (!lease) return "create";
  const holder = lease.spec?.holderIdentity ?? "";
  if (holder === identity) return "renew";
  if (holder === "") return "take";
  const expiresAtMs = observedAtMs + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
  return nowMs < expiresAtMs ? "wait" : "take";
}
