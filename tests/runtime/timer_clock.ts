/**
 * A {@linkcode FakeClock} that tells the test when a timer is armed, so a test advances virtual
 * time exactly when the code under test has started to wait, with no polling.
 *
 * @module
 */
import type { Timer } from "../../src/runtime/time/clock.ts";
import { FakeClock } from "./fake_clock.ts";

/** A {@linkcode FakeClock} that tells the test about each timer as it is armed. */
export class TimerClock extends FakeClock {
  /** Delays of the timers armed so far, in order. */
  readonly armed: number[] = [];
  #seen = 0;
  #waiters: (() => void)[] = [];

  override setTimer(delayMs: number, fn: () => void): Timer {
    this.armed.push(delayMs);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    return super.setTimer(delayMs, fn);
  }

  /** The delay of the next timer armed (after those returned before) that `matches`. */
  async nextTimer(matches: (delayMs: number) => boolean = () => true): Promise<number> {
    while (true) {
      while (this.#seen < this.armed.length) {
        const delayMs = this.armed[this.#seen++]!;
        if (matches(delayMs)) return delayMs;
      }
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }
}
