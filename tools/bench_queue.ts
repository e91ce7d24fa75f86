/**
 * Measures WorkQueue throughput on the real clock: 100,000 keys are added, then 4 workers take
 * each one and mark it done. Prints one line (`deno task bench:queue`); `bench:runtime` reuses it.
 *
 * @module
 */

import { WorkQueue } from "../src/runtime/queue/mod.ts";
import { taskArgs } from "./task_args.ts";

const KEYS = 100_000;
const WORKERS = 4;

async function run(keyCount: number): Promise<number> {
  const queue = new WorkQueue();
  const start = performance.now();
  for (let i = 0; i < keyCount; i++) queue.add(`namespace/database-${i}`);
  const worker = async () => {
    for (let item = await queue.get(); item; item = await queue.get()) {
      queue.done(item.key);
      if (queue.len() === 0) queue.shutDown();
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return performance.now() - start;
}

/** Keys per second through add+get+done, after a warm-up run for the JIT. */
export async function measureQueue(): Promise<string> {
  await run(KEYS / 10);
  const elapsedMs = await run(KEYS);
  const cyclesPerSecond = Math.round(KEYS / (elapsedMs / 1000));
  return `WorkQueue: ${KEYS} keys add+get+done in ${elapsedMs.toFixed(1)} ms = ` +
    `${cyclesPerSecond.toLocaleString("en-US")} keys/s (${WORKERS} workers, realClock)`;
}

if (import.meta.main) {
  taskArgs({ task: "bench:queue", summary: "the work queue's throughput", options: {} });
  console.log(await measureQueue());
}
