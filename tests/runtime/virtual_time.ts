/**
 * Driving asynchronous code on a {@linkcode FakeClock}: the clock fires timers synchronously,
 * but what they resolve runs in later microtasks, so tests move time in steps and let pending
 * callbacks run between them. Nothing here waits on the wall clock.
 *
 * @module
 */
import type { FakeClock } from "./fake_clock.ts";

/** Lets every callback that is already due run (microtasks and zero-delay macrotasks). */
export async function settle(rounds = 1): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Moves `clock` forward by `ms` in steps of `stepMs`, settling after each step, so that work
 * started by one timer can arm the next before time moves on.
 */
export async function runFor(clock: FakeClock, ms: number, stepMs = 100): Promise<void> {
  await settle();
  for (let left = ms; left > 0; left -= stepMs) {
    clock.advance(Math.min(stepMs, left));
    await settle();
  }
}

/**
 * Moves `clock` forward in steps until `condition` holds, at most `maxMs`.
 *
 * @returns The virtual time when `condition` first held.
 * @throws {Error} if it does not hold within `maxMs`.
 */
export async function runUntil(
  clock: FakeClock,
  condition: () => boolean,
  maxMs: number,
  stepMs = 100,
): Promise<number> {
  await settle();
  const end = clock.now() + maxMs;
  while (!condition()) {
    if (clock.now() >= end) throw new Error(`Condition not met within ${maxMs} virtual ms`);
    clock.advance(Math.min(stepMs, end - clock.now()));
    await settle();
  }
  return clock.now();
}
