/**
 * An abortable sleep on a {@linkcode Clock}.
 *
 * @module
 */
import { type Clock, realClock } from "./clock.ts";

/**
 * Resolves `ms` milliseconds from now on `clock`.
 *
 * Like the runtime's other abortable waits (`TokenBucket.wait`, `WorkQueue.get`'s callers), an
 * abort rejects: a caller that meant to stop does not go on as if the time had passed.
 *
 * @param ms How long to wait; values `<= 0` wait for the next timer turn.
 * @param signal Aborting rejects at once with `signal.reason` (also when already aborted).
 * @param clock Whose timers to use. @default {realClock}
 * @throws The signal's `reason` when it aborts.
 *
 * @example Wait on a virtual clock
 * ```ts ignore
 * const waited = delay(1_000, undefined, clock);
 * clock.advance(1_000); // `waited` resolves
 * ```
 */
export function delay(ms: number, signal?: AbortSignal, clock: Clock = realClock): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      timer.cancel();
      reject(signal!.reason);
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
