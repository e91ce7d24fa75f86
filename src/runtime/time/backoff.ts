/**
 * Exponential backoff with jitter, kept apart from the streams it slows down (as kube-rs's
 * `StreamBackoff`): the watcher never sleeps; `withBackoff` pauses after each error event.
 *
 * @module
 */

/** Options for {@linkcode Backoff}. Defaults are kube-rs's watcher defaults. */
export interface BackoffOptions {
  /** @default 800 */
  initialMs?: number;
  /** @default 30_000 */
  maxMs?: number;
  /** @default 2 */
  factor?: number;
  /** Random factor in [1 - jitter, 1 + jitter] applied to each delay. @default 0.5 */
  jitter?: number;
}

/** The delays of consecutive failures; `reset()` after a success. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 800;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.5;
  }

  /** The next delay in milliseconds. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt++);
    const spread = 1 + this.#jitter * (2 * Math.random() - 1);
    return Math.round(Math.min(this.#maxMs, base * spread));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/**
 * Passes events through, sleeping after every `{ type: "error" }` event with growing delays;
 * any other event resets the delay.
 */
export async function* withBackoff<E extends { type: string }>(
  events: AsyncIterable<E>,
  backoff: Backoff,
  signal: AbortSignal,
): AsyncGenerator<E> {
  for await (const event of events) {
    yield event;
    if (event.type === "error") await delay(backoff.next(), signal);
    else backoff.reset();
  }
}

/** Resolves after `ms`, or early (without error) when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
