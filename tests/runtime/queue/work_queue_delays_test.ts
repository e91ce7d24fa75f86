import assert from "node:assert/strict";
import {
  ItemExponentialFailureRateLimiter,
  type RateLimiter,
} from "../../../src/runtime/queue/rate_limiters.ts";
import { WorkQueue } from "../../../src/runtime/queue/work_queue.ts";
import { FakeClock } from "../fake_clock.ts";
import { drainKeys } from "../helpers.ts";

Deno.test("WorkQueue.addAfter() fires delayed keys in ready-time order from a single timer", async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  queue.addAfter("c", 30);
  queue.addAfter("a", 10);
  queue.addAfter("b", 20);
  queue.addAfter("a", 25);
  assert.equal(clock.pendingTimers, 1);
  assert.equal(queue.len(), 0);
  const fired: string[] = [];
  while (clock.pendingTimers > 0) {
    assert.equal(clock.pendingTimers, 1);
    clock.advance(5);
    fired.push(...await drainKeys(queue));
  }
  assert.deepEqual(fired, ["a", "b", "c"]);
  queue.shutDown();
});

Deno.test("WorkQueue.addAfter() of a ready key only raises its priority", async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  queue.add("a");
  queue.add("b");
  queue.addAfter("b", 100, { priority: 5 });
  assert.equal(clock.pendingTimers, 0);
  assert.equal(queue.len(), 2);
  assert.deepEqual(await queue.get(), { key: "b", priority: 5 });
  queue.shutDown();
});

Deno.test("WorkQueue.addAfter() with a delay <= 0 adds at once", () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  queue.addAfter("a", 0);
  queue.addAfter("b", -5);
  assert.equal(queue.len(), 2);
  assert.equal(clock.pendingTimers, 0);
  queue.shutDown();
});

Deno.test("WorkQueue.add() makes a delayed key ready now and drops its delayed entry", async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  queue.addAfter("a", 100);
  queue.addAfter("b", 200);
  queue.add("a", { priority: 3 });
  assert.equal(queue.len(), 1);
  assert.deepEqual(await queue.get(), { key: "a", priority: 3 });
  queue.done("a");
  clock.advance(100);
  assert.equal(queue.len(), 0);
  clock.advance(100);
  assert.deepEqual(await drainKeys(queue), ["b"]);
  queue.shutDown();
});

Deno.test("WorkQueue.addAfter() of a processing key queues it once it is both due and done", async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  queue.add("a");
  await queue.get();
  queue.addAfter("a", 10);
  clock.advance(10);
  assert.equal(queue.len(), 0);
  queue.done("a");
  assert.deepEqual(await drainKeys(queue), ["a"]);
  queue.shutDown();
});

Deno.test("WorkQueue.addRateLimited() waits as the rate limiter says, and forget() resets it", async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  queue.addRateLimited("a");
  clock.advance(4);
  assert.equal(queue.len(), 0);
  clock.advance(1);
  assert.deepEqual(await drainKeys(queue), ["a"]);
  queue.addRateLimited("a");
  clock.advance(9);
  assert.equal(queue.len(), 0);
  clock.advance(1);
  assert.equal(queue.len(), 1);
  assert.equal(queue.numRequeues("a"), 2);
  queue.forget("a");
  assert.equal(queue.numRequeues("a"), 0);
  queue.shutDown();
});

Deno.test("WorkQueue.addRateLimited() uses the given rate limiter and priority", async () => {
  const clock = new FakeClock();
  const rateLimiter: RateLimiter<string> = new ItemExponentialFailureRateLimiter({
    baseDelayMs: 1000,
  });
  const queue = new WorkQueue({ clock, rateLimiter });
  queue.addRateLimited("a", { priority: 2 });
  clock.advance(1000);
  assert.deepEqual(await queue.get(), { key: "a", priority: 2 });
  queue.shutDown();
});
