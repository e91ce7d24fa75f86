/**
 * A virtual {@linkcode Clock} for tests: time moves only when the test calls `advance`.
 *
 * @module
 */

import type { Clock, Timer } from "../../src/runtime/time/clock.ts";

interface FakeTimer {
  at: number;
  /** Creation order, so timers due at the same instant fire in the order they were set. */
  seq: number;
  fn: () => void;
}

/**
 * A clock whose time only moves on {@linkcode FakeClock.advance}; timers fire synchronously
 * inside `advance`, in due-time order.
 *
 * @example Fire a timer
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const clock = new FakeClock();
 * let fired = false;
 * clock.setTimer(10, () => fired = true);
 * clock.advance(9);
 * assert.equal(fired, false);
 * clock.advance(1);
 * assert.equal(fired, true);
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<FakeTimer>();

  /** @param startMs The initial time. @default {0} */
  constructor(startMs = 0) {
    this.#now = startMs;
  }

  /** @returns The virtual time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at `now() + delayMs` (negative delays count as 0). */
  setTimer(delayMs: number, fn: () => void): Timer {
    const timer = { at: this.#now + Math.max(delayMs, 0), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return { cancel: () => this.#timers.delete(timer) };
  }

  /** How many timers are armed and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward, firing every timer that falls due on the way, earliest first. Time
   * reads as each timer's due time while it runs, and timers it sets fire too if they fall due
   * before the end.
   *
   * @param ms How far to move; must not be negative.
   * @throws {RangeError} If `ms` is negative.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`Cannot advance a clock by ${ms} ms`);
    const end = this.#now + ms;
    for (let next = this.#earliest(); next && next.at <= end; next = this.#earliest()) {
      this.#timers.delete(next);
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
  }

  #earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
