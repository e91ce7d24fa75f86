/**
 * Leader election on a `coordination.k8s.io` Lease (client-go's semantics), and the label that
 * marks the leader's pod.
 *
 * Of several operator processes exactly one reconciles at a time:
 *
 * - Acquire: every retry period (plus client-go's jitter of 0–120 %), read the Lease; create it
 *   if absent, or take it over when it has no holder or its record has not changed for
 *   `leaseDurationSeconds` (`leaseAction`). Expiry is judged on this process's
 *   monotonic clock from the moment it saw the record change, never by comparing timestamps
 *   written by other machines. Every write carries the resourceVersion read, so of two
 *   candidates only one wins (409 for the other).
 * - The term counts from when the winning write was *sent*, not from when its answer came back:
 *   the server may have stored it at any moment in between, and others count from when they see
 *   it, so a slow answer must never make this process believe it holds the lease longer than
 *   they think. An attempt whose answer comes back after the renew deadline does not count.
 * - Renew: every retry period. When no renewal has succeeded within the renew deadline of the
 *   sending of the last successful one, or the Lease names another holder, leadership is lost:
 *   `lost` resolves and `run` returns without touching the Lease again.
 * - Release: when `run`'s signal aborts while leading, the holder is cleared and the duration set
 *   to 1 s (client-go's ReleaseOnCancel), so a follower may take over at once.
 *
 * Beyond client-go, a follower also watches the Lease (when the lock can): each change it sees
 * refreshes its observation, so expiry counts from the leader's last renewal rather than from the
 * follower's last poll, and a release wakes it at once instead of at its next poll.
 *
 * Guarantees: a follower takes over no earlier than `leaseDuration` after it saw the leader's last
 * renewal, which is after that renewal was sent; the leader gives up no later than
 * `renewDeadline` after it sent it. So two leaders never overlap as long as clocks run at the
 * same rate and `leaseDuration - renewDeadline` covers the leader's timer and exit latency.
 * Caveats: the caller must stop writing as soon as `lost` resolves; `run` cannot do that for it.
 * A leader frozen for longer than the lease (SIGSTOP, a stalled VM) may write once on waking
 * before its deadline timer fires: Leases carry no fencing token.
 *
 * All waiting is on the injected `Clock`; the Lease is reached through the
 * `LeaseLock` interface, so tests run the elector on virtual time against a fake.
 *
 * @module
 */
export * from "./leader_election.ts";
export * from "./lease_action.ts";
export * from "./leader_label.ts";
export * from "./lease_lock.ts";
