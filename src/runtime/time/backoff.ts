/**
 * Exponential backoff with jitter, kept apart from the streams it slows down (as kube-rs's
 * `StreamBackoff`): the watcher never sleeps; `withBackoff` pauses after each error event.
 *
 * The delay grows on every failure and falls back to the first step only after a healthy period
 * with no failure (client-go's `ExponentialBackoffManager`, kube-rs's `ResetTimerBackoff`: 2
 * minutes), not on the first success: a list that fails, or a watch that opens and closes at
 * once, keeps its growing delay even though something succeeded in between.
 *
 * @module
 */
import { type Clock, realClock } from "./clock.ts";
import { delay } from "./delay.ts";

/** Options for {@linkcode Backoff}. Defaults are client-go's reflector and kube-rs's watcher. */
export interface BackoffOptions {
  /** @default 800 */
  initialMs?: number;
  /** @default 30_000 */
  maxMs?: number;
  /** @default 2 */
  factor?: number;
  /** Random factor in [1 - jitter, 1 + jitter] applied to each delay. @default 0.5 */
  jitter?: number;
  /**
   * After this long without a failure, counted from the end of the last delay, the next delay
   * starts again from `initialMs`. @default 120_000
   */
  resetAfterMs?: number;
  /** Source of time for the healthy period and of the delays' timers. @default {realClock} */
  clock?: Clock;
  /** Source of jitter, numbers in [0, 1). @default Math.random */
  random?: () => number;
}

/** The delays of consecutive failures. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #resetAfterMs: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  #attempt = 0;
  /** When the last delay ends; healthy time is counted from there. */
  #healthySince: number | undefined;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 800;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.5;
    this.#resetAfterMs = options.resetAfterMs ?? 120_000;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
  }

  /** The clock the delays are measured and slept on. */
  get clock(): Clock {
    return this.#clock;
  }

  /** The delay after a failure now, in milliseconds. */
  next(): number {
    const now = this.#clock.now();
    if (this.#healthySince !== undefined && now - this.#healthySince >= this.#resetAfterMs) {
      this.#attempt = 0;
    }
    const base = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt++);
    const spread = 1 + this.#jitter * (2 * this.#random() - 1);
    const ms = Math.round(Math.min(this.#maxMs, base * spread));
    this.#healthySince = now + ms;
    return ms;
  }
}

/**
 * Passes events through, sleeping on the backoff's clock after every `{ type: "error" }` event.
 * Other events do not shorten the delays: only a healthy period does (see {@linkcode Backoff}).
 * Ends quietly when `signal` aborts during a delay.
 */
export async function* withBackoff<E extends { type: string }>(
  events: AsyncIterable<E>,
  backoff: Backoff,
  signal: AbortSignal,
): AsyncGenerator<E> {
  for await (const event of events) {
    yield event;
    if (event.type !== "error") continue;
    try {
      await delay(backoff.next(), signal, backoff.clock);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }
}
