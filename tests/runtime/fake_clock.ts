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

/** Where {@linkcode FakeClock.wallNow} starts unless told: 2026-01-01T00:00:00Z. */
const WALL_START_MS = Date.UTC(2026, 0, 1);

/**
 * A clock whose time only moves on {@linkcode FakeClock.advance}; timers fire synchronously
 * inside `advance`, in due-time order. Its wall time moves with it, and can also be stepped
 * alone ({@linkcode FakeClock.stepWall}), as an NTP correction steps the system clock.
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
  /** Wall time minus monotonic time. */
  #wallOffset: number;
  #seq = 0;
  readonly #timers = new Set<FakeTimer>();
  #waiters: { count: number; resolve: () => void }[] = [];
  /** Delays of the timers armed so far, in order. */
  readonly armed: number[] = [];
  #seenArmed = 0;
  #armWaiters: (() => void)[] = [];

  /**
   * @param startMs The initial monotonic time. @default {0}
   * @param wallStartMs The initial wall time. @default 2026-01-01T00:00:00Z
   */
  constructor(startMs = 0, wallStartMs = WALL_START_MS) {
    this.#now = startMs;
    this.#wallOffset = wallStartMs - startMs;
  }

  /** @returns The virtual monotonic time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** @returns The virtual wall time: ms since the epoch, moving with `advance`. */
  wallNow(): number {
    return this.#now + this.#wallOffset;
  }

  /** Steps the wall time alone (either way), as an NTP correction does; timers do not move. */
  stepWall(ms: number): void {
    this.#wallOffset += ms;
  }

  /**
   * Resolves once at least `count` timers are armed, so a test can advance exactly when the
   * code under test has started waiting, without polling.
   */
  whenPending(count = 1): Promise<void> {
    if (this.#timers.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /**
   * The delay of the next timer armed (after those returned before) that `matches`, so a test
   * can read each wait the code under test starts, in order, without polling.
   */
  async nextTimer(matches: (delayMs: number) => boolean = () => true): Promise<number> {
    while (true) {
      while (this.#seenArmed < this.armed.length) {
        const delayMs = this.armed[this.#seenArmed++]!;
        if (matches(delayMs)) return delayMs;
      }
      await new Promise<void>((resolve) => this.#armWaiters.push(resolve));
    }
  }

  /** Schedules `fn` at `now() + delayMs` (negative delays count as 0). */
  setTimer(delayMs: number, fn: () => void): Timer {
    const timer = { at: this.#now + Math.max(delayMs, 0), seq: this.#seq++, fn };
    this.#timers.add(timer);
    this.armed.push(delayMs);
    const armWaiters = this.#armWaiters;
    this.#armWaiters = [];
    for (const wake of armWaiters) wake();
    const ready = this.#waiters.filter((w) => this.#timers.size >= w.count);
    this.#waiters = this.#waiters.filter((w) => this.#timers.size < w.count);
    for (const waiter of ready) waiter.resolve();
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
