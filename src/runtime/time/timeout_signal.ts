/**
 * A timeout as an `AbortSignal`, on a {@linkcode Clock} (`AbortSignal.timeout` uses real time
 * only), so deadlines move with a test's virtual time.
 *
 * @module
 */
import type { Clock } from "./clock.ts";

/** A signal that aborts on a timeout; see {@linkcode timeoutSignal}. */
export interface TimeoutSignal {
  /** Aborts `ms` after creation (reason: a `TimeoutError` DOMException), or with the parent. */
  readonly signal: AbortSignal;
  /** Whether the timeout itself fired (not the parent). */
  readonly expired: boolean;
  /** Disarms the timer; call it once the guarded work is over. */
  cancel(): void;
}

/**
 * A signal that aborts `ms` from now on `clock`, or when `parent` aborts.
 *
 * @example Bound a request on a clock
 * ```ts ignore
 * const timeout = timeoutSignal(clock, 30_000, callerSignal);
 * try {
 *   await fetch(url, { signal: timeout.signal });
 * } finally {
 *   timeout.cancel();
 * }
 * ```
 */
export function timeoutSignal(clock: Clock, ms: number, parent?: AbortSignal): TimeoutSignal {
  const controller = new AbortController();
  const timer = clock.setTimer(ms, () => {
    controller.abort(new DOMException(`Timed out after ${Math.round(ms)} ms`, "TimeoutError"));
  });
  return {
    signal: parent ? AbortSignal.any([parent, controller.signal]) : controller.signal,
    get expired() {
      return controller.signal.aborted;
    },
    cancel: () => timer.cancel(),
  };
}
