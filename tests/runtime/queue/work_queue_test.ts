import assert from "node:assert/strict";
import {
  LOW_PRIORITY,
  WorkQueue,
  type WorkQueueMetrics,
} from "../../../src/runtime/queue/work_queue.ts";
import { FakeClock } from "../fake_clock.ts";
import { drainKeys, isPending, seededRandom } from "../helpers.ts";

Deno.test("WorkQueue.add() collapses duplicates of a waiting key", async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add("a");
  queue.add("b");
  queue.add("a");
  queue.add("a");
  assert.equal(queue.len(), 2);
  assert.deepEqual(await drainKeys(queue), ["a", "b"]);
  queue.shutDown();
});

Deno.test("WorkQueue.add() collapses duplicates while a key is processing", async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add("a");
  assert.deepEqual(await queue.get(), { key: "a", priority: 0 });
  queue.add("a");
  queue.add("a");
  assert.equal(queue.len(), 0, "a key being processed is not handed out again");
  queue.done("a");
  assert.equal(queue.len(), 1, "done() re-queues it once");
  assert.deepEqual(await drainKeys(queue), ["a"]);
  assert.equal(queue.len(), 0);
  queue.shutDown();
});

Deno.test("WorkQueue.done() ignores keys that are not processing", () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add("a");
  queue.done("a");
  queue.done("b");
  assert.equal(queue.len(), 1);
  queue.shutDown();
});

Deno.test("WorkQueue.get() hands out keys FIFO within a priority", async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
  for (const key of keys) queue.add(key);
  assert.deepEqual(await drainKeys(queue), keys);
  queue.shutDown();
});

Deno.test("WorkQueue.get() hands out higher priorities first", async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add("listed-1", { priority: LOW_PRIORITY });
  queue.add("listed-2", { priority: LOW_PRIORITY });
  queue.add("changed");
  queue.add("urgent", { priority: 10 });
  queue.add("changed-2");
  assert.deepEqual(await drainKeys(queue), [
    "urgent",
    "changed",
    "changed-2",
    "listed-1",
    "listed-2",
  ]);
  queue.shutDown();
});

Deno.test("WorkQueue.add() raises the priority of a waiting key but never lowers it", async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add("x", { priority: LOW_PRIORITY });
  queue.add("y", { priority: LOW_PRIORITY });
  queue.add("z");
  queue.add("y", { priority: 5 });
  queue.add("y", { priority: LOW_PRIORITY });
  assert.equal(queue.len(), 3);
  assert.deepEqual(await queue.get(), { key: "y", priority: 5 });
  assert.deepEqual(await queue.get(), { key: "z", priority: 0 });
  assert.deepEqual(await queue.get(), { key: "x", priority: LOW_PRIORITY });
  queue.shutDown();
});

Deno.test("WorkQueue.get() gives concurrent getters distinct keys as they arrive", async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  const getters = [queue.get(), queue.get(), queue.get()];
  queue.add("a");
  queue.add("b");
  queue.add("a");
  assert.equal(await isPending(getters[2] as Promise<unknown>), true);
  queue.add("c");
  const items = await Promise.all(getters);
  assert.deepEqual(items.map((item) => item?.key), ["a", "b", "c"]);
  queue.shutDown();
});

Deno.test("WorkQueue never hands a key to two of 4 workers at once, and processes every key", async () => {
  const random = seededRandom(42);
  const queue = new WorkQueue({ clock: new FakeClock() });
  const keys = Array.from({ length: 500 }, (_, i) => `ns/db-${i}`);
  const active = new Set<string>();
  const processed = new Map<string, number>();
  let readdBudget = 2000;
  let inFlight = 0;
  for (const key of keys) queue.add(key);

  const worker = async () => {
    for (let item = await queue.get(); item; item = await queue.get()) {
      const { key } = item;
      assert.ok(!active.has(key), `${key} is already being processed`);
      active.add(key);
      inFlight++;
      for (let yields = Math.floor(random() * 4); yields > 0; yields--) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        // Re-add keys at random, including ones other workers are processing right now.
        if (readdBudget > 0 && random() < 0.5) {
          readdBudget--;
          queue.add(random() < 0.3 ? key : keys[Math.floor(random() * keys.length)] as string);
        }
      }
      processed.set(key, (processed.get(key) ?? 0) + 1);
      active.delete(key);
      inFlight--;
      queue.done(key);
      if (queue.len() === 0 && inFlight === 0) queue.shutDown();
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);

  assert.equal(active.size, 0);
  assert.deepEqual([...processed.keys()].sort(), [...keys].sort());
  assert.ok([...processed.values()].some((count) => count > 1), "re-added keys ran again");
});

Deno.test("WorkQueue.get() resolves undefined when its signal aborts, taking no key", async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  const controller = new AbortController();
  const waiting = queue.get(controller.signal);
  controller.abort();
  assert.equal(await waiting, undefined);
  queue.add("a");
  assert.equal(await queue.get(AbortSignal.abort()), undefined);
  assert.equal(queue.len(), 1);
  assert.deepEqual(await queue.get(), { key: "a", priority: 0 });
  queue.shutDown();
});

Deno.test("WorkQueue.shutDown() resolves getters with undefined and ignores later adds", async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  const waiting = [queue.get(), queue.get()];
  queue.addAfter("delayed", 100);
  queue.shutDown();
  assert.equal(queue.shuttingDown, true);
  assert.deepEqual(await Promise.all(waiting), [undefined, undefined]);
  assert.equal(clock.pendingTimers, 0, "the delay timer is cancelled");
  queue.add("a");
  queue.addAfter("b", 10);
  queue.addRateLimited("c");
  assert.equal(queue.len(), 0);
  assert.equal(clock.pendingTimers, 0);
  assert.equal(queue.numRequeues("c"), 0);
  assert.equal(await queue.get(), undefined);
});

Deno.test("WorkQueue.get() resolves undefined after shutDown() even with keys queued", async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add("a");
  queue.shutDown();
  assert.equal(queue.len(), 1);
  assert.equal(await queue.get(), undefined);
});

Deno.test("WorkQueue.done() after shutDown() ends the work in flight and queues nothing", async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add("a");
  await queue.get();
  queue.shutDown();
  queue.add("a");
  queue.done("a");
  assert.equal(queue.len(), 0);
  assert.equal(queue.unfinishedWork().totalSeconds, 0);
  assert.equal(await queue.get(), undefined);
});

Deno.test("WorkQueue reports metrics and unfinished work", async () => {
  const clock = new FakeClock();
  const calls: string[] = [];
  const metrics: WorkQueueMetrics = {
    added: () => calls.push("added"),
    depth: (n) => calls.push(`depth ${n}`),
    gotten: (queuedMs) => calls.push(`gotten ${queuedMs}`),
    done: (workMs) => calls.push(`done ${workMs}`),
    retried: () => calls.push("retried"),
  };
  const queue = new WorkQueue({ clock, metrics, name: "databases" });
  assert.equal(queue.name, "databases");
  queue.add("a");
  queue.add("a");
  queue.add("b");
  clock.advance(30);
  await queue.get();
  clock.advance(1000);
  await queue.get();
  clock.advance(500);
  assert.deepEqual(queue.unfinishedWork(), { totalSeconds: 2, longestSeconds: 1.5 });
  queue.done("a");
  queue.addRateLimited("a");
  assert.deepEqual(calls, [
    "added",
    "depth 1",
    "added",
    "depth 2",
    "depth 1",
    "gotten 30",
    "depth 0",
    "gotten 1030",
    "done 1500",
    "retried",
  ]);
  queue.shutDown();
});

Deno.test("WorkQueue handles 100,000 keys in FIFO order", async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  for (let i = 0; i < 100_000; i++) queue.add(`key-${i}`, { priority: i % 2 ? 0 : LOW_PRIORITY });
  assert.equal(queue.len(), 100_000);
  const keys = await drainKeys(queue);
  assert.equal(keys.length, 100_000);
  assert.equal(keys[0], "key-1");
  assert.equal(keys[49_999], "key-99999");
  assert.equal(keys[50_000], "key-0");
  assert.equal(keys[99_999], "key-99998");
  queue.shutDown();
});
