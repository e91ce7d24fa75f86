/**
 * Lease-based leader election with client-go's semantics (`tools/leaderelection`), so that of
 * several operator processes exactly one reconciles at a time.
 *
 * - Acquire: every retry period (plus client-go's jitter of 0–120 %), read the Lease; create it
 *   if absent, or take it over when it has no holder or its record has not changed for
 *   `leaseDurationSeconds`. Expiry is judged on this process's monotonic clock from the moment
 *   it saw the record change, never by comparing timestamps written by other machines. Every
 *   write carries the resourceVersion read, so of two candidates only one wins (409 for the other).
 * - Renew: every retry period. When no renewal has succeeded within the renew deadline of the
 *   start of the last successful one, or the Lease names another holder, leadership is lost:
 *   `lost` resolves and `run` returns without touching the Lease again.
 * - Release: when `run`'s signal aborts while leading, the holder is cleared and the duration set
 *   to 1 s (client-go's ReleaseOnCancel), so a follower may take over at once.
 *
 * Beyond client-go, a follower also watches the Lease: each change it sees refreshes its
 * observation, so expiry counts from the leader's last renewal rather than from the follower's
 * last poll, and a release wakes it at once instead of at its next poll.
 *
 * Guarantees: a follower takes over no earlier than `leaseDuration` after it saw the leader's last
 * renewal, which is after that renewal started; the leader gives up no later than `renewDeadline`
 * after that start. So two leaders never overlap as long as clocks run at the same rate and
 * `leaseDuration - renewDeadline` covers the leader's timer and exit latency.
 * Caveats: the caller must stop writing as soon as `lost` resolves; `run` cannot do that for it.
 * A leader frozen for longer than the lease (SIGSTOP, a stalled VM) may write once on waking
 * before its deadline timer fires: Leases carry no fencing token.
 *
 * @module
 */
import { delay } from "../time/mod.ts";
import type { EventRecorder } from "../controller/mod.ts";
import type { KubeClient } from "../client/mod.ts";
import { holderRecord, type Lease, LeaseLock, type LeaseSpec, recordKey } from "./lease_lock.ts";
import type { Logger, RuntimeMetrics } from "../observability/mod.ts";

/** client-go's `JitterFactor`: waits between acquire attempts are 1 to 2.2 retry periods. */
const JITTER_FACTOR = 1.2;

/** Options for {@linkcode LeaderElector}. Defaults are controller-runtime's. */
export interface LeaderElectorOptions {
  /** Preferably a client of its own, so a reconcile burst cannot delay renewals. */
  client: KubeClient;
  /** Namespace of the Lease. */
  namespace: string;
  /** Name of the Lease (`--leader-election-id`). */
  name: string;
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
  events?: EventRecorder;
}

/** Leadership was lost while leading. Not retryable: the process should exit and start over. */
export class LeadershipLostError extends Error {
  override name = "LeadershipLostError";
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
  /** `performance.now()` when the record was last seen to change. */
  #observedAt = 0;
  /** `performance.now()` at the start of the last successful renewal. */
  #renewedAt = 0;
  /** Aborted by the Lease watch to cut a follower's wait short. */
  #wakeUp = new AbortController();

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
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
    this.#lock = new LeaseLock(options.client, options.namespace, options.name);
    this.#log = options.logger.child({ lease: `${options.namespace}/${options.name}` });
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
    const staleMs = performance.now() - this.#renewedAt;
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
    if (!await this.#acquire(signal)) return;
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

  async #acquire(signal: AbortSignal): Promise<boolean> {
    const watching = new AbortController();
    const watch = this.#watch(AbortSignal.any([signal, watching.signal]));
    try {
      while (!signal.aborted) {
        try {
          if (await this.#tryAcquireOrRenew(signal)) return true;
        } catch (error) {
          if (signal.aborted) break;
          this.#log.warn("Failed to acquire leader lease", { error });
        }
        const waitMs = this.#retryMs * (1 + Math.random() * JITTER_FACTOR);
        // Ends at once if the Lease was released during the attempt (or on stop: the loop checks).
        await delay(waitMs, AbortSignal.any([signal, this.#wakeUp.signal])).catch(() => {});
        this.#wakeUp = new AbortController();
      }
      return false;
    } finally {
      watching.abort();
      await watch;
    }
  }

  /** Renews until `signal` aborts (`undefined`) or leadership is lost (the error). */
  async #renew(signal: AbortSignal): Promise<LeadershipLostError | undefined> {
    this.#renewedAt = performance.now();
    while (true) {
      const deadline = this.#renewedAt + this.#renewDeadlineMs;
      // After a failure, never sleep past the deadline: the loss must be reported on time.
      await delay(Math.max(0, Math.min(this.#retryMs, deadline - performance.now())), signal)
        .catch(() => {});
      if (signal.aborted) return undefined;
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) {
        return new LeadershipLostError(
          `The leader lease was not renewed within the renew deadline (${this.#renewDeadlineMs} ms)`,
        );
      }
      const startedAt = performance.now();
      try {
        // A hung request must not outlive the deadline.
        const attempt = AbortSignal.any([signal, AbortSignal.timeout(remainingMs)]);
        if (!await this.#tryAcquireOrRenew(attempt)) {
          const holder = this.#lease?.spec?.holderIdentity;
          return new LeadershipLostError(`The leader lease was taken over by ${holder}`);
        }
        this.#renewedAt = startedAt;
      } catch (error) {
        if (signal.aborted) return undefined;
        this.#log.warn("Failed to renew leader lease", { error });
      }
    }
  }

  /** One attempt (client-go's tryAcquireOrRenew): true when this candidate now holds the lease. */
  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    // A leader first writes over the version it last wrote, saving a read (client-go's fast path).
    if (this.#leading && this.#lease) {
      try {
        this.#observe(await this.#lock.update(this.#lease, this.#record(this.#lease), signal));
        return true;
      } catch (error) {
        if (signal.aborted) throw error;
        this.#log.debug("Renewal without a read failed; reading the lease", { error });
      }
    }
    const lease = await this.#lock.get(signal);
    if (!lease) {
      this.#observe(await this.#lock.create(this.#record(undefined), signal));
      return true;
    }
    this.#observe(lease);
    const holder = lease.spec?.holderIdentity ?? "";
    const expiresAt = this.#observedAt + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== "" && holder !== this.identity && performance.now() < expiresAt) return false;
    this.#observe(await this.#lock.update(lease, this.#record(lease), signal));
    return true;
  }

  /** Remembers `lease`, and when its record changed, on the local monotonic clock. */
  #observe(lease: Lease): void {
    const previousHolder = this.#lease?.spec?.holderIdentity ?? "";
    this.#lease = lease;
    const key = recordKey(lease.spec);
    if (key === this.#observedKey) return;
    this.#observedKey = key;
    this.#observedAt = performance.now();
    const holder = lease.spec?.holderIdentity ?? "";
    if (holder !== previousHolder && holder !== "" && holder !== this.identity) {
      this.#log.info("New leader observed", { leader: holder });
    }
  }

  /** While campaigning: observes every change of the Lease, and wakes on a release. */
  async #watch(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        for await (const lease of this.#lock.watch(signal)) {
          if (lease) this.#observe(lease);
          if (!lease?.spec?.holderIdentity) this.#wakeUp.abort();
        }
      } catch (error) {
        if (!signal.aborted) this.#log.debug("Lease watch failed", { error });
      }
      await delay(this.#retryMs, signal).catch(() => {}); // an abort ends the loop
    }
  }

  async #release(): Promise<void> {
    if (!this.#lease) return;
    try {
      const signal = AbortSignal.timeout(this.#renewDeadlineMs);
      if (await this.#lock.release(this.#lease, this.identity, signal)) {
        this.#log.info("Released leader lease", { identity: this.identity });
      }
    } catch (error) {
      this.#log.warn("Failed to release leader lease; it will expire", { error });
    }
  }

  /** The record to write now, stamped after any read so a takeover is never backdated. */
  #record(old: Lease | undefined): LeaseSpec {
    return holderRecord(old?.spec, this.identity, this.#leaseMs, Date.now());
  }

  #setStatus(value: 0 | 1): void {
    this.#options.metrics?.leaderElectionStatus.set({ name: this.#options.name }, value);
  }
}
