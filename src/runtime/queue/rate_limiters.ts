/**
 * Per-item retry delays for the work queue, as small composable objects after client-go's
 * `util/workqueue` rate limiters.
 *
 * @module
 */

import { type Clock, realClock, TokenBucket } from "../time/mod.ts";

/** Decides how long an item waits before it is retried. */
export interface RateLimiter<K> {
  /**
   * Records a retry of `item`.
   *
   * @returns How long the item should wait, in milliseconds.
   */
  when(item: K): number;
  /** Stops tracking `item`, e.g. after it succeeded, so its next failure starts afresh. */
  forget(item: K): void;
  /** @returns How many times `item` has been retried since it was last forgotten. */
  numRequeues(item: K): number;
}

/** Options for {@linkcode ItemExponentialFailureRateLimiter}. */
export interface ItemExponentialFailureRateLimiterOptions {
  /** Delay after the first failure. @default {5} */
  baseDelayMs?: number;
  /** Largest delay ever returned. @default {1_000_000} */
  maxDelayMs?: number;
}

/**
 * Backs off each item on its own: `baseDelayMs * 2 ** failures`, capped at `maxDelayMs`.
 * Remember to call `forget` when an item succeeds, or its delay keeps growing.
 *
 * @example Doubling delays
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const limiter = new ItemExponentialFailureRateLimiter<string>();
 * assert.deepEqual([limiter.when("a"), limiter.when("a"), limiter.when("a")], [5, 10, 20]);
 * ```
 */
export class ItemExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #failures = new Map<K, number>();

  /**
   * @param options Base and maximum delay.
   * @throws {RangeError} If a delay is negative or NaN.
   */
  constructor(
    { baseDelayMs = 5, maxDelayMs = 1_000_000 }: ItemExponentialFailureRateLimiterOptions = {},
  ) {
    if (!(baseDelayMs >= 0) || !(maxDelayMs >= 0)) {
      throw new RangeError(`Backoff delays must be >= 0, got ${baseDelayMs} and ${maxDelayMs}`);
    }
    this.#baseDelayMs = baseDelayMs;
    this.#maxDelayMs = maxDelayMs;
  }

  when(item: K): number {
    const failures = this.#failures.get(item) ?? 0;
    this.#failures.set(item, failures + 1);
    // The exponent is clamped so 0 * 2 ** n never becomes 0 * Infinity = NaN; an overflow to
    // Infinity is then capped by Math.min like any other large delay.
    return Math.min(this.#baseDelayMs * 2 ** Math.min(failures, 1023), this.#maxDelayMs);
  }

  forget(item: K): void {
    this.#failures.delete(item);
  }

  numRequeues(item: K): number {
    return this.#failures.get(item) ?? 0;
  }
}

/**
 * Limits retries of all items together through one {@linkcode TokenBucket}, so a mass failure
 * cannot flood the API server. It keeps no per-item state.
 */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  readonly #bucket: TokenBucket;

  /** @param bucket The shared bucket; each `when` reserves one token from it. */
  constructor(bucket: TokenBucket) {
    this.#bucket = bucket;
  }

  /** @returns How long until the reserved token is available (`Infinity` if it never will be). */
  when(_item: K): number {
    return this.#bucket.reserve().delayMs;
  }

  forget(_item: K): void {}

  numRequeues(_item: K): number {
    return 0;
  }
}

/** Combines limiters: an item waits as long as the strictest of them says. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: readonly RateLimiter<K>[];

  /** @param limiters Every one of them is consulted on each call. */
  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }

  /** @returns The longest of the delays (every limiter records the retry). */
  when(item: K): number {
    return this.#limiters.reduce((max, limiter) => Math.max(max, limiter.when(item)), 0);
  }

  forget(item: K): void {
    for (const limiter of this.#limiters) limiter.forget(item);
  }

  /** @returns The largest count any limiter reports. */
  numRequeues(item: K): number {
    return this.#limiters.reduce((max, limiter) => Math.max(max, limiter.numRequeues(item)), 0);
  }
}

/**
 * The controller default, the same as client-go's `DefaultTypedControllerRateLimiter`: the
 * larger of per-item exponential backoff (5 ms doubling up to 1000 s) and an overall bucket of
 * 10 retries per second with a burst of 100.
 *
 * @param clock Source of time for the bucket. @default {realClock}
 * @returns A fresh limiter.
 */
export function defaultControllerRateLimiter<K>(clock: Clock = realClock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ItemExponentialFailureRateLimiter<K>({ baseDelayMs: 5, maxDelayMs: 1_000_000 }),
    new BucketRateLimiter<K>(new TokenBucket({ rate: 10, burst: 100, clock })),
  );
}
