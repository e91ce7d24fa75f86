/**
 * The one seam through which the runtime reads time and schedules callbacks, so tests can
 * swap in a virtual clock and stay deterministic.
 *
 * Two kinds of time, kept apart on purpose:
 * - {@linkcode Clock.now} is monotonic: for delays, deadlines, timeouts, cache lifetimes and
 *   durations. It never steps, so an NTP correction neither postpones nor releases every
 *   requeue at once. Its origin is arbitrary (process start for {@linkcode realClock}), so it is
 *   never a date.
 * - {@linkcode Clock.wallNow} is the wall clock (ms since the Unix epoch): for timestamps that
 *   leave the process or are compared with other machines' (event times, lease `renewTime`,
 *   credential expiry). It may step.
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
   * Monotonic time, for measuring and scheduling.
   *
   * @returns Milliseconds since an arbitrary but fixed origin; never decreases. Not a date: use
   * {@linkcode Clock.wallNow} for that.
   */
  now(): number;
  /**
   * Wall-clock time, for timestamps.
   *
   * @returns Milliseconds since the Unix epoch, as `Date.now()`; may jump when the system clock
   * is set.
   */
  wallNow(): number;
  /**
   * Calls `fn` once, `delayMs` milliseconds from now (on the monotonic scale).
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
 * The process's clock: `performance.now()` (monotonic), `Date.now()` (wall) and `setTimeout`.
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
  now: () => performance.now(),
  wallNow: () => Date.now(),
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
