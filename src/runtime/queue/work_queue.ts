/**
 * The controller work queue: client-go's `util/workqueue` queue, delaying queue and
 * rate-limiting queue in one class, ordered like controller-runtime's priority queue.
 *
 * Its promises:
 * - **Fair**: ready keys come out highest priority first and, within a priority, in the order
 *   they became ready (FIFO).
 * - **Stingy**: a key is held at most once however often it is added. Adding a key that is
 *   already waiting only raises its priority or brings its ready time forward.
 * - **One worker per key**: a key handed out by `get()` is not handed out again until
 *   `done(key)`. Adds in the meantime are remembered and queue it once more on `done`.
 * - **Shutdown stops taking work**: after `shutDown()` adds are ignored, every `get()` resolves
 *   `undefined` even if keys remain queued, and no timer is left armed. Keys handed out may
 *   still be marked `done` (the controller waits for its workers itself).
 *
 * Unlike client-go, `get()` stops handing out keys at once on shutdown, and `add()` of a key
 * waiting on a delay makes it ready now instead of holding two entries for it.
 *
 * @module
 */

import { BinaryHeap, type HeapItem } from "./binary_heap.ts";
import { type Clock, realClock } from "../time/mod.ts";
import { DelayHeap } from "./delay_heap.ts";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate_limiters.ts";
import { noopWorkQueueMetrics, type WorkQueueMetrics } from "./work_queue_metrics.ts";

export type { WorkQueueMetrics };

/**
 * Priority for keys from an initial list or a resync, so that real changes overtake a start-up
 * flood (as controller-runtime does).
 */
export const LOW_PRIORITY = -100;

/** Options for {@linkcode WorkQueue}. */
export interface WorkQueueOptions<K> {
  /** Name for metrics and logs. @default {""} */
  name?: string;
  /** Decides delays for `addRateLimited`. @default {defaultControllerRateLimiter(clock)} */
  rateLimiter?: RateLimiter<K>;
  /** Source of time. @default {realClock} */
  clock?: Clock;
  /** Metric hooks. @default {no-op} */
  metrics?: WorkQueueMetrics;
}

/** Options for adding a key. */
export interface AddOptions {
  /**
   * Higher comes out first; use {@linkcode LOW_PRIORITY} for list and resync events.
   * @default {0}
   */
  priority?: number;
}

/** A key handed to a worker by {@linkcode WorkQueue.get}. */
export interface WorkItem<K> {
  key: K;
  priority: number;
}

/** A ready key not yet handed out. */
interface Entry<K> extends HeapItem {
  key: K;
  priority: number;
  /** Order of becoming ready, so equal priorities come out FIFO. */
  seq: number;
  /** When it became ready, for the queue-duration metric. */
  queuedAt: number;
}

/**
 * A de-duplicating, delaying, rate-limited priority queue of keys. Workers loop on `get()`,
 * process the key, then call `done(key)`; on failure `addRateLimited(key)`, on success
 * `forget(key)`. See the module documentation for its promises.
 *
 * @example One worker
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const queue = new WorkQueue();
 * queue.add("default/db-1");
 * queue.add("default/db-1");
 * const item = await queue.get();
 * assert.equal(item?.key, "default/db-1");
 * queue.done("default/db-1");
 * assert.equal(queue.len(), 0);
 * queue.shutDown();
 * ```
 */
export class WorkQueue<K extends string = string> {
  /** Name for metrics and logs. */
  readonly name: string;
  readonly #rateLimiter: RateLimiter<K>;
  readonly #clock: Clock;
  readonly #metrics: WorkQueueMetrics;
  /** Ready keys not yet handed out; those whose key is processing wait outside `#ready`. */
  readonly #pending = new Map<K, Entry<K>>();
  readonly #ready = new BinaryHeap<Entry<K>>((a, b) =>
    a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq)
  );
  /** Keys waiting for a ready time; a key is never both here and in `#pending`. */
  readonly #delays: DelayHeap<K>;
  /** Keys handed out and not yet done, with when they were handed out. */
  readonly #processing = new Map<K, number>();
  /** Blocked `get()` calls, oldest first. */
  readonly #getters = new Set<(item: WorkItem<K> | undefined) => void>();
  #seq = 0;
  #shuttingDown = false;

  /** @param options Name, rate limiter, clock and metrics; nothing is started. */
  constructor(options: WorkQueueOptions<K> = {}) {
    this.name = options.name ?? "";
    this.#clock = options.clock ?? realClock;
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.#clock);
    this.#metrics = options.metrics ?? noopWorkQueueMetrics;
    this.#delays = new DelayHeap(this.#clock, (key, priority) => this.add(key, { priority }));
  }

  /** Whether `shutDown` has been called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Queues `key` now. A key already waiting is not added again, only raised to the higher
   * priority; a key being processed is queued once more when it is done. Ignored after shutdown.
   */
  add(key: K, options?: AddOptions): void {
    if (this.#shuttingDown) return;
    const priority = Math.max(options?.priority ?? 0, this.#delays.remove(key) ?? -Infinity);
    const entry = this.#pending.get(key);
    if (entry) {
      this.#raise(entry, priority);
      return;
    }
    const fresh = { key, priority, seq: this.#seq++, queuedAt: this.#clock.now(), heapIndex: -1 };
    this.#pending.set(key, fresh);
    this.#metrics.added();
    if (!this.#processing.has(key)) this.#push(fresh);
  }

  /**
   * Queues `key` after `delayMs` (at once if `<= 0`). If the key is already waiting, the earlier
   * ready time and the higher priority win. Ignored after shutdown.
   */
  addAfter(key: K, delayMs: number, options?: AddOptions): void {
    if (this.#shuttingDown) return;
    if (!(delayMs > 0)) return this.add(key, options);
    const priority = options?.priority ?? 0;
    const entry = this.#pending.get(key);
    if (entry) this.#raise(entry, priority);
    else this.#delays.add(key, this.#clock.now() + delayMs, priority);
  }

  /**
   * Queues `key` after the delay the rate limiter gives it, counting a retry. Call `forget`
   * once the key succeeds, or its backoff keeps growing.
   */
  addRateLimited(key: K, options?: AddOptions): void {
    if (this.#shuttingDown) return;
    this.#metrics.retried();
    this.addAfter(key, this.#rateLimiter.when(key), options);
  }

  /** Clears the key's backoff in the rate limiter; it does not remove the key from the queue. */
  forget(key: K): void {
    this.#rateLimiter.forget(key);
  }

  /** @returns How many times `key` was rate-limited since it was last forgotten. */
  numRequeues(key: K): number {
    return this.#rateLimiter.numRequeues(key);
  }

  /**
   * Takes the next key, waiting for one if none is ready. The caller owns the key until it calls
   * `done(key)`; concurrent callers always get different keys.
   *
   * @param signal Aborting resolves a waiting call with `undefined`.
   * @returns The key and its priority, or `undefined` once the queue shuts down or `signal` aborts.
   */
  get(signal?: AbortSignal): Promise<WorkItem<K> | undefined> {
    if (this.#shuttingDown || signal?.aborted) return Promise.resolve(undefined);
    if (this.#ready.size > 0) return Promise.resolve(this.#take());
    return new Promise((resolve) => {
      const getter = (item: WorkItem<K> | undefined) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(item);
      };
      const onAbort = () => {
        this.#getters.delete(getter);
        resolve(undefined);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#getters.add(getter);
    });
  }

  /** Marks `key` as processed. If it was added meanwhile, it is queued now. */
  done(key: K): void {
    const startedAt = this.#processing.get(key);
    if (startedAt === undefined) return;
    this.#processing.delete(key);
    this.#metrics.done(this.#clock.now() - startedAt);
    const entry = this.#pending.get(key);
    if (entry) this.#push(entry);
  }

  /** @returns How many keys are ready to be handed out (delayed and held keys not counted). */
  len(): number {
    return this.#ready.size;
  }

  /**
   * Stops intake: later adds are ignored, every waiting and future `get()` resolves `undefined`
   * and the delay timer is cancelled. Keys being processed may still be marked `done`.
   */
  shutDown(): void {
    this.#shuttingDown = true;
    this.#delays.clear();
    for (const getter of this.#getters) getter(undefined);
    this.#getters.clear();
  }

  /**
   * Work in flight, for `workqueue_unfinished_work_seconds` and
   * `workqueue_longest_running_processor_seconds`; read it at scrape time.
   *
   * @returns Total and longest time that the keys now processing have been processing.
   */
  unfinishedWork(): { totalSeconds: number; longestSeconds: number } {
    const now = this.#clock.now();
    let totalMs = 0;
    let longestMs = 0;
    for (const startedAt of this.#processing.values()) {
      totalMs += now - startedAt;
      longestMs = Math.max(longestMs, now - startedAt);
    }
    return { totalSeconds: totalMs / 1000, longestSeconds: longestMs / 1000 };
  }

  /** Raises a ready entry's priority; it never lowers it. */
  #raise(entry: Entry<K>, priority: number): void {
    if (priority <= entry.priority) return;
    entry.priority = priority;
    if (entry.heapIndex >= 0) this.#ready.update(entry);
  }

  /** Puts a ready entry in the heap and hands out what blocked getters can take. */
  #push(entry: Entry<K>): void {
    this.#ready.push(entry);
    for (const getter of this.#getters) {
      if (this.#ready.size === 0) break;
      this.#getters.delete(getter);
      getter(this.#take());
    }
    this.#metrics.depth(this.#ready.size);
  }

  /** Moves the first ready key to processing; the heap must not be empty. */
  #take(): WorkItem<K> {
    const entry = this.#ready.pop() as Entry<K>;
    const now = this.#clock.now();
    this.#pending.delete(entry.key);
    this.#processing.set(entry.key, now);
    this.#metrics.depth(this.#ready.size);
    this.#metrics.gotten(now - entry.queuedAt);
    return { key: entry.key, priority: entry.priority };
  }
}
