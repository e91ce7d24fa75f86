/**
 * Helpers shared by the runtime tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { WorkQueue } from "../../src/runtime/queue/work_queue.ts";

/**
 * Lets pending callbacks run, then tells whether `promise` is still unsettled.
 *
 * @returns `true` if it has neither resolved nor rejected.
 */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  let pending = true;
  promise.then(() => pending = false, () => pending = false);
  await new Promise((resolve) => setTimeout(resolve, 0));
  return pending;
}

/**
 * Takes every ready key from `queue`, marking each done.
 *
 * @returns The keys in the order they were handed out.
 */
export async function drainKeys(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const item = await queue.get();
    assert.ok(item);
    keys.push(item.key);
    queue.done(item.key);
  }
  return keys;
}

/**
 * A deterministic pseudo-random source (Park-Miller), so failures reproduce.
 *
 * @param seed A whole number from 1 to 2147483646.
 * @returns A function giving numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  return () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
}
