/**
 * Polls until a condition holds. Tests use it to wait for eventual consistency, with a generous
 * bound that only turns a hang into a failure (it is never a performance assertion).
 *
 * @module
 */

/**
 * Resolves once `check` returns true; rejects with `message` (and what `describe` says about
 * the last state) after `timeoutMs`.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  message: string,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => unknown } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (true) {
    if (await check()) return;
    if (Date.now() > deadline) {
      const state = options.describe ? `; last state: ${JSON.stringify(options.describe())}` : "";
      throw new Error(`Timed out: ${message}${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
