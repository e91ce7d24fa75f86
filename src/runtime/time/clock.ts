/**
 * The one seam through which the runtime reads time and schedules callbacks, so tests can
 * swap in a virtual clock and stay deterministic.
 *
 * @module
 */

/** A cancellable timer handle returned by {@linkcode Clock.setTimer}. */
export interface Timer {
  /** Stops the timer; does nothing if it already fired or was cancelled. */
  cancel(): void;
}

/** A source of time and timers. */
export interface Clock {
  /**
   * The current time.
   *
   * @returns Milliseconds since an arbitrary but fixed origin (the Unix epoch for
   * {@linkcode realClock}).
   */
  now(): number;
  /**
   * Calls `fn` once, `delayMs` milliseconds from now.
   *
   * @param delayMs How long to wait; negative values mean "as soon as possible".
   * @param fn The callback.
   * @returns A handle that cancels the timer.
   */
  setTimer(delayMs: number, fn: () => void): Timer;
}

/** setTimeout fires at once for delays beyond a signed 32-bit integer; longer ones are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The wall clock: `Date.now()` and `setTimeout`.
 *
 * Timers are deliberately not unref'd, so a forgotten timer keeps the process alive and
 * shows up in Deno's leak sanitizer rather than hiding.
 *
 * @example Schedule and cancel a timer
 * ```ts
 * const timer = realClock.setTimer(1000, () => console.log("never"));
 * timer.cancel();
 * ```
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    let id: ReturnType<typeof setTimeout>;
    const arm = (remainingMs: number) => {
      const stepMs = Math.min(Math.max(remainingMs, 0), MAX_TIMEOUT_MS);
      id = setTimeout(stepMs < remainingMs ? () => arm(remainingMs - stepMs) : fn, stepMs);
    };
    arm(delayMs);
    return { cancel: () => clearTimeout(id) };
  },
};
