/**
 * The {@linkcode LeaderElector}: one candidate of a Lease-based leader election with
 * client-go's semantics (`tools/leaderelection`). `mod.ts` states what it does and guarantees.
 *
 * @module
 */
import { ApiError } from "../client/mod.ts";
import { type Clock, delay, realClock, timeoutSignal } from "../time/mod.ts";
import {
  holderRecord,
  type Lease,
  type LeaseLock,
  type LeaseSpec,
  recordKey,
  releasedRecord,
} from "./lease_lock.ts";
import type { Logger } from "../observability/mod.ts";
import { type LeaderElectorOptions, LeadershipLostError, leaseAction } from "./lease_action.ts";

/** client-go's `JitterFactor`: waits between acquire attempts are 1 to 2.2 retry periods. */
const JITTER_FACTOR = 1.2;

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
