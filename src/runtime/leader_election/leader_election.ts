/**
 * Lease-based leader election with client-go's semantics (`tools/leaderelection`), so that of
 * several operator processes exactly one reconciles at a time.
 *
 * - Acquire: every retry period (plus client-go's jitter of 0–120 %), read the Lease; create it
 *   if absent, or take it over when it has no holder or its record has not changed for
 *   `leaseDurationSeconds` ({@linkcode leaseAction}). Expiry is judged on this process's
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
 * All waiting is on the injected {@linkcode Clock}; the Lease is reached through the
 * {@linkcode LeaseLock} interface, so tests run the elector on virtual time against a fake.
 *
 * @module
 */
import { ApiError } from "../client/mod.ts";
import type { EventRecorder } from "../controller/mod.ts";
import { type Clock, delay, realClock, timeoutSignal } from "../time/mod.ts";
import {
  holderRecord,
  type Lease,
  type LeaseLock,
  type LeaseSpec,
  recordKey,
  releasedRecord,
} from "./lease_lock.ts";
import type { Logger, RuntimeMetrics } from "../observability/mod.ts";

/** client-go's `JitterFactor`: waits between acquire attempts are 1 to 2.2 retry periods. */
const JITTER_FACTOR = 1.2;

/** Options for {@linkcode LeaderElector}. Defaults are controller-runtime's. */
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

/** Runs one candidate of a leader election; see the module documentation. */
export class LeaderElector {
  /** This candidate's identity, written to the Lease as `holderIdentity`. */
  readonly identity: string;
  /** Resolves when this candidate becomes leader (never, if it does not). */
  readonly elected: Promise<void>;
  /** Resolves when leadership is lost while leading (never after a release). */
  readonly lost: Promise<LeadershipLostError>;
  readonly #lock: LeaseLock;
  readonly #options: LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #leaseMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  readonly #becameLeader: () => void;
  readonly #lose: (error: LeadershipLostError) => void;
  #started = false;
  #leading = false;
  #lostError?: LeadershipLostError;
  /** The Lease as last read or written. */
  #lease?: Lease;
  #observedKey = "";
  /** Clock time when the record was last seen to change. */
  #observedAt = 0;
  /** Clock time when the last successful acquire or renewal was sent. */
  #renewedAt = 0;
  /** Aborted by the Lease watch to cut a follower's wait short. */
  #wakeUp = new AbortController();

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.#lock = options.lock;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
    this.#leaseMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryMs = options.retryPeriodMs ?? 2_000;
    if (this.#leaseMs <= this.#renewDeadlineMs) {
      throw new RangeError("The lease duration must be longer than the renew deadline");
    }
    if (this.#renewDeadlineMs <= JITTER_FACTOR * this.#retryMs) {
      throw new RangeError(`The renew deadline must be longer than ${JITTER_FACTOR} retry periods`);
    }
    const host = Deno.env.get("POD_NAME") ?? Deno.env.get("HOSTNAME") ?? "postgres-operator";
    this.identity = options.identity ?? `${host}_${crypto.randomUUID()}`;
    this.#log = options.logger.child({ lease: `${this.#lock.namespace}/${this.#lock.name}` });
    const elected = Promise.withResolvers<void>();
    const lost = Promise.withResolvers<LeadershipLostError>();
    this.elected = elected.promise;
    this.lost = lost.promise;
    this.#becameLeader = elected.resolve;
    this.#lose = lost.resolve;
  }

  /** True while this candidate holds the lease. */
  get isLeader(): boolean {
    return this.#leading;
  }

  /**
   * For `/readyz`: a reason while leading with the last successful renewal older than two retry
   * periods (renewals are failing or hanging), or after leadership was lost; else `undefined`.
   */
  healthCheck(): string | undefined {
    if (this.#lostError) return this.#lostError.message;
    const staleMs = this.#clock.now() - this.#renewedAt;
    if (this.#leading && staleMs > 2 * this.#retryMs) {
      return `leader lease not renewed for ${Math.round(staleMs)} ms`;
    }
    return undefined;
  }

  /**
   * Campaigns until elected, then renews until `signal` aborts (then releases the lease) or
   * leadership is lost. Never throws for API errors; it logs them and retries.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error("LeaderElector.run() may be called once");
    this.#started = true;
    this.#setStatus(0);
    this.#log.info("Attempting to acquire leader lease", { identity: this.identity });
    const sentAt = await this.#acquire(signal);
    if (sentAt === undefined) return;
    this.#renewedAt = sentAt;
    this.#leading = true;
    this.#setStatus(1);
    this.#log.info("Became leader", { identity: this.identity });
    const note = `${this.identity} became leader`;
    if (this.#lease) {
      this.#options.events?.record(this.#lease, "Normal", "LeaderElection", "Acquire", note);
    }
    this.#becameLeader();
    const lost = await this.#renew(signal);
    this.#leading = false;
    this.#setStatus(0);
    if (!lost) return await this.#release();
    this.#lostError = lost;
    this.#log.error("Leader election lost", { error: lost });
    this.#lose(lost);
  }

  /** Campaigns until this candidate holds the lease (the send time of the winning write). */
  async #acquire(signal: AbortSignal): Promise<number | undefined> {
    const watching = new AbortController();
    const watch = this.#watch(AbortSignal.any([signal, watching.signal]));
    try {
      while (!signal.aborted) {
        // An answer later than the renew deadline would not count anyway.
        const attempt = timeoutSignal(this.#clock, this.#renewDeadlineMs, signal);
        try {
          const sentAt = await this.#tryAcquireOrRenew(attempt.signal);
          if (sentAt !== undefined) {
            const tookMs = this.#clock.now() - sentAt;
            if (tookMs < this.#renewDeadlineMs) return sentAt;
            // Stored, but too late to lead on: the next attempt renews it in time, or not.
            this.#log.warn("Leader lease acquired too slowly to count", { ms: Math.round(tookMs) });
          }
        } catch (error) {
          if (signal.aborted) break;
          this.#log.warn("Failed to acquire leader lease", { error });
        } finally {
          attempt.cancel();
        }
        const waitMs = this.#retryMs * (1 + this.#random() * JITTER_FACTOR);
        // Returns at once if the Lease was released during the attempt.
        await delay(waitMs, AbortSignal.any([signal, this.#wakeUp.signal]), this.#clock).catch(
          () => {},
        ); // an abort ends the wait early
        this.#wakeUp = new AbortController();
      }
      return undefined;
    } finally {
      watching.abort();
      await watch;
    }
  }

  /** Renews until `signal` aborts (`undefined`) or leadership is lost (the error). */
  async #renew(signal: AbortSignal): Promise<LeadershipLostError | undefined> {
    while (true) {
      const deadlineAt = this.#renewedAt + this.#renewDeadlineMs;
      // After a failure, never sleep past the deadline: the loss must be reported on time.
      const waitMs = Math.max(0, Math.min(this.#retryMs, deadlineAt - this.#clock.now()));
      await delay(waitMs, signal, this.#clock).catch(() => {}); // an abort ends the wait early
      if (signal.aborted) return undefined;
      const remainingMs = deadlineAt - this.#clock.now();
      if (remainingMs <= 0) {
        return new LeadershipLostError(
          `The leader lease was not renewed within the renew deadline (${this.#renewDeadlineMs} ms)`,
        );
      }
      // A hung request must not outlive the deadline.
      const attempt = timeoutSignal(this.#clock, remainingMs, signal);
      try {
        const sentAt = await this.#tryAcquireOrRenew(attempt.signal);
        if (sentAt === undefined) {
          const holder = this.#lease?.spec?.holderIdentity;
          return new LeadershipLostError(`The leader lease was taken over by ${holder}`);
        }
        this.#renewedAt = sentAt;
      } catch (error) {
        if (signal.aborted) return undefined;
        this.#log.warn("Failed to renew leader lease", { error });
      } finally {
        attempt.cancel();
      }
    }
  }

  /**
   * One attempt (client-go's tryAcquireOrRenew).
   * @returns When the write that now holds the lease was sent, or `undefined` while another
   * candidate holds it.
   */
  async #tryAcquireOrRenew(signal: AbortSignal): Promise<number | undefined> {
    // A leader first writes over the version it last wrote, saving a read (client-go's fast path).
    if (this.#leading && this.#lease) {
      const sentAt = this.#clock.now();
      try {
        this.#observe(await this.#lock.update(this.#lease, this.#record(this.#lease), signal));
        return sentAt;
      } catch (error) {
        if (signal.aborted) throw error;
        this.#log.debug("Renewal without a read failed; reading the lease", { error });
      }
    }
    const lease = await this.#lock.get(signal);
    if (lease) this.#observe(lease);
    const action = leaseAction(lease, this.identity, this.#observedAt, this.#clock.now());
    if (action === "wait") return undefined;
    // Stamped after the read, so a takeover is never backdated.
    const record = this.#record(lease);
    const sentAt = this.#clock.now();
    this.#observe(
      lease
        ? await this.#lock.update(lease, record, signal)
        : await this.#lock.create(record, signal),
    );
    return sentAt;
  }

  /** Remembers `lease`, and when its record changed, on the clock. */
  #observe(lease: Lease): void {
    const previousHolder = this.#lease?.spec?.holderIdentity ?? "";
    this.#lease = lease;
    const key = recordKey(lease.spec);
    if (key === this.#observedKey) return;
    this.#observedKey = key;
    this.#observedAt = this.#clock.now();
    const holder = lease.spec?.holderIdentity ?? "";
    if (holder !== previousHolder && holder !== "" && holder !== this.identity) {
      this.#log.info("New leader observed", { leader: holder });
    }
  }

  /** While campaigning: observes every change of the Lease, and wakes on a release. */
  async #watch(signal: AbortSignal): Promise<void> {
    const lock = this.#lock;
    if (!lock.watch) return;
    while (!signal.aborted) {
      try {
        for await (const lease of lock.watch(signal)) {
          if (lease) this.#observe(lease);
          if (!lease?.spec?.holderIdentity) this.#wakeUp.abort();
        }
      } catch (error) {
        if (!signal.aborted) this.#log.debug("Lease watch failed", { error });
      }
      await delay(this.#retryMs, signal, this.#clock).catch(() => {}); // an abort ends the wait early
    }
  }

  /**
   * Clears the holder. A renewal cut short by shutdown may still have been stored, so on a
   * conflict it reads the Lease and tries once more while this candidate still holds it.
   */
  async #release(): Promise<void> {
    const bound = timeoutSignal(this.#clock, this.#renewDeadlineMs);
    try {
      let current = this.#lease;
      for (let attempt = 0; current?.spec?.holderIdentity === this.identity; attempt++) {
        try {
          await this.#lock.update(
            current,
            releasedRecord(current.spec, this.#clock.wallNow()),
            bound.signal,
          );
          this.#log.info("Released leader lease", { identity: this.identity });
          return;
        } catch (error) {
          if (attempt > 0 || !(error instanceof ApiError && error.code === 409)) throw error;
          current = await this.#lock.get(bound.signal);
        }
      }
    } catch (error) {
      this.#log.warn("Failed to release leader lease; it will expire", { error });
    } finally {
      bound.cancel();
    }
  }

  /** The record to write now; its times are wall-clock times, for people reading the Lease. */
  #record(old: Lease | undefined): LeaseSpec {
    return holderRecord(old?.spec, this.identity, this.#leaseMs, this.#clock.wallNow());
  }

  #setStatus(value: 0 | 1): void {
    this.#options.metrics?.leaderElectionStatus.set({ name: this.#lock.name }, value);
  }
}
