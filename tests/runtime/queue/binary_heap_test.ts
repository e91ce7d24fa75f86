import assert from "node:assert/strict";
import { BinaryHeap } from "../../../src/runtime/queue/binary_heap.ts";
import { seededRandom } from "../helpers.ts";

interface Item {
  n: number;
  heapIndex: number;
}

function drain(heap: BinaryHeap<Item>): number[] {
  const out: number[] = [];
  for (let item = heap.pop(); item; item = heap.pop()) out.push(item.n);
  return out;
}

Deno.test("BinaryHeap.pop() returns items smallest first", () => {
  const random = seededRandom(1);
  const heap = new BinaryHeap<Item>((a, b) => a.n < b.n);
  const values = Array.from({ length: 1000 }, () => Math.floor(random() * 100));
  for (const n of values) heap.push({ n, heapIndex: -1 });
  assert.equal(heap.size, 1000);
  assert.deepEqual(drain(heap), [...values].sort((a, b) => a - b));
  assert.equal(heap.pop(), undefined);
});

Deno.test("BinaryHeap.update() and remove() keep the order after changes anywhere", () => {
  const random = seededRandom(2);
  const heap = new BinaryHeap<Item>((a, b) => a.n < b.n);
  const items = Array.from({ length: 500 }, (_, n) => ({ n, heapIndex: -1 }));
  for (const item of items) heap.push(item);
  const removed = items.filter((_, i) => i % 3 === 0);
  for (const item of removed) heap.remove(item);
  for (const item of items) {
    if (item.heapIndex < 0) continue;
    item.n = Math.floor(random() * 1000);
    heap.update(item);
  }
  assert.ok(removed.every((item) => item.heapIndex === -1));
  const kept = items.filter((item) => !removed.includes(item)).map((item) => item.n);
  assert.deepEqual(drain(heap), kept.sort((a, b) => a - b));
});
