import assert from "node:assert/strict";
import { DelayHeap } from "../../../src/runtime/queue/delay_heap.ts";
import { FakeClock } from "../fake_clock.ts";
import { seededRandom } from "../helpers.ts";

/** A heap on a fake clock that records what it releases as "key:priority". */
function setup(): { clock: FakeClock; delays: DelayHeap<string>; released: string[] } {
  const clock = new FakeClock();
  const released: string[] = [];
  const delays = new DelayHeap<string>(
    clock,
    (key, priority) => released.push(`${key}:${priority}`),
  );
  return { clock, delays, released };
}

Deno.test("DelayHeap releases keys in ready-time order, FIFO on ties, from one timer", () => {
  const { clock, delays, released } = setup();
  const random = seededRandom(7);
  const delayOf = new Map<string, number>();
  for (let i = 0; i < 100; i++) {
    delayOf.set(`key-${i}`, 1 + Math.floor(random() * 300));
    delays.add(`key-${i}`, delayOf.get(`key-${i}`) as number, 0);
    assert.equal(clock.pendingTimers, 1);
  }
  while (clock.pendingTimers > 0) {
    assert.equal(clock.pendingTimers, 1);
    clock.advance(1);
  }
  // Array.prototype.sort is stable, so keys due together stay in the order they were added.
  const expected = [...delayOf.keys()].sort((a, b) =>
    (delayOf.get(a) as number) - (delayOf.get(b) as number)
  );
  assert.deepEqual(released, expected.map((key) => `${key}:0`));
  assert.equal(delays.size, 0);
});

Deno.test("DelayHeap.add() keeps the earlier ready time and the higher priority", () => {
  const { clock, delays, released } = setup();
  delays.add("a", 100, 0);
  delays.add("a", 50, -100);
  delays.add("a", 200, 5);
  assert.equal(delays.size, 1);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(49);
  assert.deepEqual(released, []);
  clock.advance(1);
  assert.deepEqual(released, ["a:5"]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("DelayHeap.remove() lets go of a key and re-arms the timer for the next", () => {
  const { clock, delays, released } = setup();
  delays.add("a", 10, 3);
  delays.add("b", 20, 0);
  assert.equal(delays.remove("a"), 3);
  assert.equal(delays.remove("a"), undefined);
  assert.equal(clock.pendingTimers, 1);
  clock.advance(10);
  assert.deepEqual(released, []);
  clock.advance(10);
  assert.deepEqual(released, ["b:0"]);
});

Deno.test("DelayHeap.clear() drops every key and cancels the timer", () => {
  const { clock, delays, released } = setup();
  delays.add("a", 10, 0);
  delays.add("b", 20, 0);
  delays.clear();
  assert.equal(delays.size, 0);
  assert.equal(clock.pendingTimers, 0);
  clock.advance(100);
  assert.deepEqual(released, []);
});

Deno.test("DelayHeap arms no timer for a key that is never due", () => {
  const { clock, delays } = setup();
  delays.add("a", Infinity, 0);
  assert.equal(delays.size, 1);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("DelayHeap lets onReady hold the released key again", () => {
  const clock = new FakeClock();
  let releases = 0;
  const delays = new DelayHeap<string>(clock, (key) => {
    if (++releases < 3) delays.add(key, clock.now() + 10, 0);
  });
  delays.add("a", 10, 0);
  clock.advance(100);
  assert.equal(releases, 3);
  assert.equal(clock.pendingTimers, 0);
});
