/**
 * Measures WorkQueue throughput on the real clock: 100,000 keys are added, then 4 workers take
 * each one and mark it done. Prints one line. Run with `deno run tools/bench_queue.ts`.
 *
 * @module
 */

import { WorkQueue } from "../src/runtime/work_queue.ts";

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

await run(KEYS / 10); // Warm up the JIT so the measured run reflects steady state.
const elapsedMs = await run(KEYS);
const cyclesPerSecond = Math.round(KEYS / (elapsedMs / 1000));
console.log(
  `WorkQueue: ${KEYS} keys add+get+done in ${elapsedMs.toFixed(1)} ms = ` +
    `${cyclesPerSecond.toLocaleString("en-US")} keys/s (${WORKERS} workers, realClock)`,
);
