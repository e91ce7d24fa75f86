/**
 * A token bucket with the semantics of Go's `golang.org/x/time/rate.Limiter`, shared by the
 * API client's QPS limit, the work queue's overall bucket and the external-call limiter.
 *
 * @module
 */

import { type Clock, realClock } from "./clock.ts";

/** Options for {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second. `<= 0` or `Infinity` means unlimited: every call is let through. */
  rate: number;
  /** Most tokens the bucket holds, and how many it starts with; a whole number `>= 0`. */
  burst: number;
  /** Source of time. @default {realClock} */
  clock?: Clock;
}

/** One token taken from a {@linkcode TokenBucket}, possibly ahead of time. */
export interface Reservation {
  /** Whether a token was granted; `false` only when `burst` is 0, so the bucket never fills. */
  readonly ok: boolean;
  /** How long the caller must wait before acting, as of reserving; `Infinity` if not `ok`. */
  readonly delayMs: number;
  /**
   * Gives the token back if the caller will not act after all. Like Go's `CancelAt`, only the
   * part not already built upon by later reservations is restored, and nothing is restored once
   * the reservation's time has passed. Calling it again does nothing.
   */
  cancel(): void;
}

/** {@linkcode TokenBucket.wait} would have to wait past its deadline; nothing was taken. */
export class WaitExceedsDeadlineError extends Error {
  override name = "WaitExceedsDeadlineError";
}

const noop = () => {};
const UNGRANTED: Reservation = { ok: false, delayMs: Infinity, cancel: noop };
const IMMEDIATE: Reservation = { ok: true, delayMs: 0, cancel: noop };

/**
 * A bucket refilled continuously at `rate` tokens per second up to `burst`, starting full.
 * Reservations may drive the balance negative; later callers then wait longer, which is how
 * `rate.Limiter` spaces events out fairly.
 *
 * @example Burst, then rate
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const bucket = new TokenBucket({ rate: 10, burst: 2 });
 * assert.equal(bucket.allow(), true);
 * assert.equal(bucket.allow(), true);
 * assert.equal(bucket.allow(), false);
 * assert.ok(bucket.reserve().delayMs > 0);
 * ```
 */
export class TokenBucket {
  /** Tokens per millisecond; `undefined` means unlimited. */
  readonly #perMs: number | undefined;
  readonly #burst: number;
  readonly #clock: Clock;
  /** Token balance as of `#last`. */
  #tokens: number;
  #last: number;
  /** When the latest reservation may act; may lie in the future. Needed to cancel correctly. */
  #lastEvent: number;

  /**
   * @param options Rate, burst and clock.
   * @throws {RangeError} If `rate` is NaN or `burst` is not a whole number `>= 0`.
   */
  constructor({ rate, burst, clock = realClock }: TokenBucketOptions) {
    if (Number.isNaN(rate)) throw new RangeError("Token bucket rate must be a number");
    if (!Number.isInteger(burst) || burst < 0) {
      throw new RangeError(`Token bucket burst must be a whole number >= 0, got ${burst}`);
    }
    this.#perMs = rate > 0 && rate !== Infinity ? rate / 1000 : undefined;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = this.#lastEvent = clock.now();
  }

  /**
   * Takes a token if one is available now.
   *
   * @returns Whether the caller may act now; if `false`, nothing was taken.
   */
  allow(): boolean {
    return this.#reserve(0).ok;
  }

  /**
   * Takes a token now or in the future. The caller must wait `delayMs` before acting, or call
   * `cancel` if it gives up.
   *
   * @returns The reservation.
   */
  reserve(): Reservation {
    return this.#reserve(Infinity);
  }

  /**
   * Waits until a token is available and takes it, as Go's `rate.Limiter.Wait`: when the wait
   * would end after `deadline`, it fails at once and takes nothing, so callers that would give up
   * anyway leave no backlog behind for those that come after them.
   *
   * @param signal Aborting gives the reserved token back and rejects.
   * @param deadline The latest time to act, on the clock's {@linkcode Clock.now} scale.
   * @returns Resolves once the caller may act.
   * @throws The signal's `reason` if it aborts (or already had).
   * @throws {WaitExceedsDeadlineError} If the token would come after `deadline`; nothing taken.
   * @throws {RangeError} If `burst` is 0, so no token will ever come.
   */
  async wait(signal?: AbortSignal, deadline?: number): Promise<void> {
    signal?.throwIfAborted();
    if (this.#burst < 1 && this.#perMs !== undefined) {
      throw new RangeError("Token bucket has burst 0 and can never grant a token");
    }
    const maxWaitMs = deadline === undefined ? Infinity : deadline - this.#clock.now();
    const reservation = this.#reserve(maxWaitMs);
    if (!reservation.ok) {
      throw new WaitExceedsDeadlineError(
        `Waiting for the rate limiter would pass the deadline (${Math.max(maxWaitMs, 0)} ms away)`,
      );
    }
    if (reservation.delayMs <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        timer.cancel();
        reservation.cancel();
        reject(signal?.reason);
      };
      const timer = this.#clock.setTimer(reservation.delayMs, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * @returns The current balance, negative while reservations are outstanding; `Infinity` if
   * unlimited.
   */
  tokens(): number {
    if (this.#perMs === undefined) return Infinity;
    return this.#balanceAt(this.#clock.now(), this.#perMs);
  }

  /** Go's `reserveN` for one token, acting only if the wait is at most `maxWaitMs`. */
  #reserve(maxWaitMs: number): Reservation {
    const perMs = this.#perMs;
    if (perMs === undefined) return IMMEDIATE;
    const now = this.#clock.now();
    const tokens = this.#balanceAt(now, perMs) - 1;
    const waitMs = tokens < 0 ? -tokens / perMs : 0;
    if (this.#burst < 1 || waitMs > maxWaitMs) return UNGRANTED;
    const timeToAct = now + waitMs;
    this.#last = now;
    this.#tokens = tokens;
    this.#lastEvent = timeToAct;
    let cancelled = false;
    return {
      ok: true,
      delayMs: waitMs,
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        this.#restore(timeToAct, perMs);
      },
    };
  }

  /** Go's `Reservation.CancelAt(now)` for one token. */
  #restore(timeToAct: number, perMs: number): void {
    const now = this.#clock.now();
    if (timeToAct < now) return;
    // Reservations made after this one already count on its token; those are not restored.
    const restore = 1 - (this.#lastEvent - timeToAct) * perMs;
    if (restore <= 0) return;
    this.#tokens = Math.min(this.#balanceAt(now, perMs) + restore, this.#burst);
    this.#last = now;
    if (timeToAct === this.#lastEvent) {
      const previousEvent = timeToAct - 1 / perMs;
      if (previousEvent >= now) this.#lastEvent = previousEvent;
    }
  }

  /** Balance at `now` after refilling since `#last`, capped at burst (Go's `advance`). */
  #balanceAt(now: number, perMs: number): number {
    // A clock that stepped backwards refills nothing rather than draining the bucket.
    const elapsed = Math.max(now - this.#last, 0);
    return Math.min(this.#tokens + elapsed * perMs, this.#burst);
  }
}
