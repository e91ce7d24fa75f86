/**
 * Waiting for a reconcile's writes as a whole.
 *
 * @module
 */

/**
 * Like `Promise.all`, but settles only once every promise has, so no write of a reconcile is
 * still in flight when it ends (and the next reconcile of the same key may start); rejects with
 * the first error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(await allSettledOrThrow(Promise.resolve(1), Promise.resolve("a")), [1, "a"]);
 * ```
 */
export async function allSettledOrThrow<T extends unknown[]>(
  ...promises: { [K in keyof T]: Promise<T[K]> }
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as T;
}
