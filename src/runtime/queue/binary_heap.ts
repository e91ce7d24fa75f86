/**
 * An indexed binary heap, like Go's `container/heap`: items remember their position, so one
 * can be re-ordered or removed in O(log n). The work queue keeps two: ready keys by priority
 * and delayed keys by ready time.
 *
 * @module
 */

/** An item that can sit in one {@linkcode BinaryHeap} at a time. */
export interface HeapItem {
  /** Position in the heap, maintained by the heap; -1 when in none. */
  heapIndex: number;
}

/**
 * A binary heap whose top is the item that comes first by `before`.
 *
 * @example Smallest first
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const heap = new BinaryHeap<{ n: number; heapIndex: number }>((a, b) => a.n < b.n);
 * for (const n of [3, 1, 2]) heap.push({ n, heapIndex: -1 });
 * assert.equal(heap.pop()?.n, 1);
 * ```
 */
export class BinaryHeap<T extends HeapItem> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  /** @param before Whether `a` must come out before `b`; must be a strict order. */
  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  /** How many items the heap holds. */
  get size(): number {
    return this.#items.length;
  }

  /** @returns The first item, without removing it. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an item that is in no heap. O(log n). */
  push(item: T): void {
    item.heapIndex = this.#items.push(item) - 1;
    this.#up(item.heapIndex);
  }

  /** @returns The first item, removed; `undefined` if empty. O(log n). */
  pop(): T | undefined {
    const top = this.#items[0];
    if (top) this.remove(top);
    return top;
  }

  /** Removes an item from anywhere in this heap. O(log n). */
  remove(item: T): void {
    const index = item.heapIndex;
    const last = this.#items.pop() as T;
    if (last !== item) {
      this.#items[index] = last;
      last.heapIndex = index;
      this.update(last);
    }
    item.heapIndex = -1;
  }

  /** Restores order after the fields `before` reads changed on an item in this heap. O(log n). */
  update(item: T): void {
    if (!this.#up(item.heapIndex)) this.#down(item.heapIndex);
  }

  /** @returns Whether the item moved. */
  #up(index: number): boolean {
    const start = index;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.#before(this.#at(index), this.#at(parent))) break;
      this.#swap(index, parent);
      index = parent;
    }
    return index !== start;
  }

  #down(index: number): void {
    const n = this.#items.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.#before(this.#at(right), this.#at(left)) ? right : left;
      if (!this.#before(this.#at(child), this.#at(index))) return;
      this.#swap(index, child);
      index = child;
    }
  }

  #at(index: number): T {
    return this.#items[index] as T;
  }

  #swap(i: number, j: number): void {
    const a = this.#at(i);
    const b = this.#at(j);
    this.#items[i] = b;
    this.#items[j] = a;
    a.heapIndex = j;
    b.heapIndex = i;
  }
}
