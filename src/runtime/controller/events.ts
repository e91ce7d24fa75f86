/**
 * Kubernetes Events (events.k8s.io/v1) about the objects a controller manages, shown by
 * `kubectl describe` and `kubectl events`.
 *
 * Guarantees: a hot loop cannot flood the API. Repeats of one event (same object, type, reason
 * and note) within ten minutes update the first Event's `series` instead of creating new ones,
 * at most once a minute; and each object may cause at most 25 Events in a burst, then one per
 * five minutes (client-go's spam filter). Sending is best effort and off the caller's path, as
 * client-go's broadcaster: `record` returns at once, a few senders work through a bounded
 * backlog, and failures are logged only. On shutdown, `flush` sends what is still queued, for as
 * long as its signal allows; then requests in flight are cancelled and the rest is dropped.
 *
 * Windows and budgets run on the injected {@linkcode Clock}; the times written into Events are
 * wall-clock times.
 *
 * @module
 */
import {
  collectionPath,
  CORE,
  type KubeClient,
  type KubeObject,
  microTime,
  objectPath,
} from "../client/mod.ts";
import type { Logger } from "../observability/mod.ts";
import { type Clock, realClock, TokenBucket } from "../time/mod.ts";

const REPEAT_WINDOW_MS = 10 * 60_000;
const SERIES_UPDATE_MS = 60_000;
const SENDERS = 4;
const MAX_BACKLOG = 1_000;
/** client-go's spam filter: a burst of 25 Events per object, then one per five minutes. */
const BURST = 25;
const REFILL_PER_SECOND = 1 / 300;
/**
 * How often full budgets are dropped. A full budget behaves as a new one would, so keeping it a
 * little longer changes nothing; looking at every budget on every Event made a burst quadratic.
 */
const BUDGET_SWEEP_MS = 60_000;

/** Options for {@linkcode EventRecorder}. */
export interface EventRecorderOptions {
  client: KubeClient;
  /** `reportingController`, e.g. `database.example.com/postgres-operator`. */
  controller: string;
  /** `reportingInstance`, e.g. the pod name. */
  instance: string;
  logger: Logger;
  /** Source of time for the repeat window and the per-object budget. @default {realClock} */
  clock?: Clock;
}

interface Sent {
  name: string;
  namespace: string;
  count: number;
  firstAt: number;
  patchedAt: number;
}

/** Records Events; see the module documentation for its limits. */
export class EventRecorder {
  readonly #options: EventRecorderOptions;
  readonly #sent = new Map<string, Sent>();
  readonly #budgets = new Map<string, TokenBucket>();
  #budgetsSweptAt = -Infinity;
  readonly #backlog: { reason: string; request: () => Promise<unknown> }[] = [];
  readonly #senders = new Set<Promise<void>>();
  readonly #clock: Clock;
  /** Aborted when a flush runs out of time: cancels requests in flight, drops the backlog. */
  readonly #closed = new AbortController();

  constructor(options: EventRecorderOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  /** Records that `action` on `regarding` happened, for `reason`; returns at once. */
  record(
    regarding: KubeObject,
    type: "Normal" | "Warning",
    reason: string,
    action: string,
    note: string,
  ): void {
    if (this.#closed.signal.aborted) return;
    const uid = regarding.metadata.uid ?? "";
    const key = [uid, type, reason, note].join("\u0000");
    const now = this.#clock.now();
    const wallNow = this.#clock.wallNow();
    this.#forgetOld(now);
    const namespace = regarding.metadata.namespace ?? "default";
    const client = this.#options.client;
    const repeat = this.#sent.get(key);
    if (repeat) {
      repeat.count++;
      if (now - repeat.patchedAt < SERIES_UPDATE_MS) return;
      repeat.patchedAt = now;
      const body = { series: { count: repeat.count, lastObservedTime: microTime(wallNow) } };
      this.#send(
        reason,
        () =>
          client.request("PATCH", objectPath(CORE.events, repeat.namespace, repeat.name), {
            body,
            contentType: "application/merge-patch+json",
            signal: this.#closed.signal,
          }),
      );
      return;
    }
    if (!this.#budget(uid).allow()) return;
    const name = `${regarding.metadata.name}.${wallNow.toString(16)}${randomSuffix()}`;
    this.#sent.set(key, { name, namespace, count: 1, firstAt: now, patchedAt: now });
    const body = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name, namespace },
      eventTime: microTime(wallNow),
      reportingController: this.#options.controller,
      reportingInstance: this.#options.instance,
      action,
      reason,
      note: note.slice(0, 1024),
      type,
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: regarding.metadata.name,
        namespace: regarding.metadata.namespace,
        uid,
        resourceVersion: regarding.metadata.resourceVersion,
      },
    };
    this.#send(
      reason,
      () =>
        client.request("POST", collectionPath(CORE.events, namespace), {
          body,
          signal: this.#closed.signal,
        }),
    );
  }

  /**
   * Resolves when every Event queued so far has been sent (or has failed). If `signal` aborts
   * first, the recorder closes: requests in flight are cancelled, what is still queued is
   * dropped (and counted in one log line), and later Events are ignored.
   */
  async flush(signal?: AbortSignal): Promise<void> {
    const close = () => {
      const dropped = this.#backlog.length + this.#senders.size;
      this.#backlog.length = 0;
      this.#closed.abort(signal?.reason);
      if (dropped > 0) {
        this.#options.logger.info("Events not sent before shutdown", { dropped });
      }
    };
    if (signal?.aborted) close();
    signal?.addEventListener("abort", close, { once: true });
    try {
      while (this.#senders.size > 0) await Promise.all(this.#senders);
    } finally {
      signal?.removeEventListener("abort", close);
    }
  }

  #send(reason: string, request: () => Promise<unknown>): void {
    if (this.#backlog.length >= MAX_BACKLOG) {
      this.#options.logger.debug("Event dropped: backlog full", { reason });
      return;
    }
    this.#backlog.push({ reason, request });
    if (this.#senders.size >= SENDERS) return;
    const sender = this.#drain();
    this.#senders.add(sender);
    sender.finally(() => this.#senders.delete(sender));
  }

  async #drain(): Promise<void> {
    for (let next = this.#backlog.shift(); next; next = this.#backlog.shift()) {
      const { reason } = next;
      await next.request().catch((error) =>
        this.#options.logger.debug("Event not recorded", { reason, error })
      );
    }
  }

  #budget(uid: string): TokenBucket {
    let bucket = this.#budgets.get(uid);
    if (!bucket) {
      bucket = new TokenBucket({ rate: REFILL_PER_SECOND, burst: BURST, clock: this.#clock });
      this.#budgets.set(uid, bucket);
    }
    return bucket;
  }

  #forgetOld(now: number): void {
    // Insertion order is the order of `firstAt`: stop at the first Event still in its window.
    for (const [key, sent] of this.#sent) {
      if (now - sent.firstAt <= REPEAT_WINDOW_MS) break;
      this.#sent.delete(key);
    }
    if (now - this.#budgetsSweptAt < BUDGET_SWEEP_MS) return;
    this.#budgetsSweptAt = now;
    // Full buckets carry no state worth keeping.
    for (const [uid, bucket] of this.#budgets) {
      if (bucket.tokens() >= BURST) this.#budgets.delete(uid);
    }
  }
}

function randomSuffix(): string {
  return Math.floor(Math.random() * 0xfffff).toString(16);
}
