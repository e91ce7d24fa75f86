/**
 * The delaying layer of the work queue, after client-go's delaying queue: keys wait in one
 * min-heap keyed by ready time, and one timer, armed for the earliest, releases them.
 *
 * @module
 */

import { BinaryHeap, type HeapItem } from "./binary_heap.ts";
import type { Clock, Timer } from "../time/mod.ts";

interface Delayed<K> extends HeapItem {
  key: K;
  readyAt: number;
  priority: number;
  /** Arrival order, so keys due at the same time are released FIFO. */
  seq: number;
}

/**
 * Keys waiting for their ready time, each held once. Never more than one timer is armed,
 * however many keys wait.
 *
 * @example Hold a key for a minute, then change our mind
 * ```ts
 * import assert from "node:assert/strict";
 * import { realClock } from "../time/mod.ts";
 *
 * const delays = new DelayHeap<string>(realClock, (key) => console.log(key, "is due"));
 * delays.add("a", realClock.now() + 60_000, 0);
 * assert.equal(delays.size, 1);
 * assert.equal(delays.remove("a"), 0);
 * ```
 */
export class DelayHeap<K> {
  readonly #clock: Clock;
  readonly #onReady: (key: K, priority: number) => void;
  readonly #byKey = new Map<K, Delayed<K>>();
  readonly #heap = new BinaryHeap<Delayed<K>>((a, b) =>
    a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.seq < b.seq)
  );
  #timer: Timer | undefined;
  /** When `#timer` fires; `Infinity` when none is armed. */
  #timerAt = Infinity;
  #seq = 0;

  /**
   * @param clock Source of time and of the one timer.
   * @param onReady Called with each key (and its priority) once its ready time has come; the
   * key has left the heap by then, so `onReady` may add it again.
   */
  constructor(clock: Clock, onReady: (key: K, priority: number) => void) {
    this.#clock = clock;
    this.#onReady = onReady;
  }

  /** How many keys are waiting. */
  get size(): number {
    return this.#heap.size;
  }

  /**
   * Holds `key` until `readyAt`. If it is already held, the earlier ready time and the higher
   * priority win (client-go keeps the earlier time too).
   *
   * @param key The key.
   * @param readyAt When to release it, on the clock's time scale.
   * @param priority Passed back to `onReady`.
   */
  add(key: K, readyAt: number, priority: number): void {
    const held = this.#byKey.get(key);
    if (!held) {
      const entry = { key, readyAt, priority, seq: this.#seq++, heapIndex: -1 };
      this.#byKey.set(key, entry);
      this.#heap.push(entry);
    } else {
      held.priority = Math.max(held.priority, priority);
      if (readyAt >= held.readyAt) return;
      held.readyAt = readyAt;
      this.#heap.update(held);
    }
    this.#arm();
  }

  /**
   * Lets go of `key` without releasing it through `onReady`.
   *
   * @returns Its priority, or `undefined` if it was not held.
   */
  remove(key: K): number | undefined {
    const held = this.#byKey.get(key);
    if (!held) return undefined;
    this.#byKey.delete(key);
    this.#heap.remove(held);
    this.#arm();
    return held.priority;
  }

  /** Drops every key and cancels the timer. */
  clear(): void {
    while (this.#heap.size > 0) this.#heap.pop();
    this.#byKey.clear();
    this.#arm();
  }

  /** Keeps the one timer armed for the earliest key, and none when no key waits. */
  #arm(): void {
    const at = this.#heap.peek()?.readyAt ?? Infinity;
    if (at === this.#timerAt) return;
    this.#timer?.cancel();
    this.#timerAt = at;
    this.#timer = at === Infinity
      ? undefined
      : this.#clock.setTimer(at - this.#clock.now(), () => this.#release());
  }

  #release(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    for (let next = this.#heap.peek(); next && next.readyAt <= now; next = this.#heap.peek()) {
      this.#heap.pop();
      this.#byKey.delete(next.key);
      this.#onReady(next.key, next.priority);
    }
    this.#arm();
  }
}
