/**
 * A controller: watches a primary type and the types it owns, queues the keys of primary
 * objects that may need work, and runs `maxConcurrentReconciles` workers over the queue.
 *
 * Guarantees (from the work queue): one worker per key at a time; a burst of events for one key
 * becomes one reconcile; the initial list enters at low priority so real changes overtake it.
 * A reconciler that throws never stops the controller.
 *
 * Owned objects map to their controller owner by API group and kind, whatever the version in the
 * owner reference; when an update moves an object from one owner to another (or a mapped watch
 * from one key to another), both are queued, as controller-runtime's handlers do.
 *
 * @module
 */
import type { Informer, InformerEvent } from "../cache/mod.ts";
import type { Logger, RuntimeMetrics } from "../observability/mod.ts";
import { LOW_PRIORITY, type RateLimiter, WorkQueue } from "../queue/mod.ts";
import { type Clock, realClock } from "../time/mod.ts";
import {
  RECONCILE_RESULT_LABELS,
  reconcileOutcome,
  type Reconciler,
  type Result,
} from "./reconcile.ts";
import {
  controllerOf,
  type KubeObject,
  objectKey,
  type OwnerReference,
  parseKey,
  type ResourceType,
} from "../client/mod.ts";

/** Options for {@linkcode Controller}. Defaults follow controller-runtime and the course. */
export interface ControllerOptions<T extends KubeObject> {
  /** Name in logs and metric labels (controller-runtime uses the lower-case kind). */
  name: string;
  /** Informer of the primary type. */
  for: Informer<T>;
  /** Informers of owned types; their events queue the controller owner. */
  owns?: Informer<KubeObject>[];
  /**
   * Other informers whose events map to primary keys (controller-runtime's `Watches` with
   * `EnqueueRequestsFromMapFunc`), e.g. pods that belong to a primary object by label.
   */
  watches?: { informer: Informer<KubeObject>; map: (object: KubeObject) => string[] }[];
  reconcile: Reconciler;
  /** @default 2 (the course's setting; controller-runtime's default is 1) */
  maxConcurrentReconciles?: number;
  /** Replaces the default controller rate limiter (5 ms → 1000 s per key, 10/s burst 100). */
  rateLimiter?: RateLimiter<string>;
  /**
   * Raises (or lowers) the priority of the key an event queues, added to the default: 0, or
   * {@linkcode LOW_PRIORITY} for an initial list. Sees primary, owned and watched events, e.g.
   * to let an owned object's change that completes a primary object overtake a flood of first
   * reconciles. @default {() => 0}
   */
  priority?: (key: string, event: InformerEvent<KubeObject>, source: ResourceType) => number;
  /** Drops primary-object events that need no reconcile (e.g. status-only updates). */
  predicate?: (event: InformerEvent<T>) => boolean;
  logger: Logger;
  metrics?: RuntimeMetrics;
  /** Source of time for the work queue, its rate limiter and the reconcile timer. @default {realClock} */
  clock?: Clock;
}

/** Runs reconciles for one primary type. Constructing it only subscribes to its informers. */
export class Controller<T extends KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  readonly #options: ControllerOptions<T>;
  readonly #workers: number;
  readonly #log: Logger;
  readonly #clock: Clock;

  constructor(options: ControllerOptions<T>) {
    this.name = options.name;
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#workers = Math.max(1, options.maxConcurrentReconciles ?? 2);
    this.#log = options.logger.child({
      controller: options.name,
      controllerGroup: options.for.type.group,
      controllerKind: options.for.type.kind,
    });
    this.queue = new WorkQueue<string>({
      name: options.name,
      clock: this.#clock,
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
      ...(options.metrics ? { metrics: options.metrics.workQueue(options.name) } : {}),
    });
    const labels = { controller: this.name };
    const metrics = options.metrics;
    metrics?.maxConcurrentReconciles.set(labels, this.#workers);
    metrics?.activeWorkers.set(labels, 0);
    // Every series exists from start-up, so rates and alerts see zeros rather than nothing.
    for (const result of RECONCILE_RESULT_LABELS) {
      metrics?.reconcileTotal.inc({ ...labels, result }, 0);
    }
    metrics?.reconcileErrors.inc(labels, 0);
    metrics?.terminalReconcileErrors.inc(labels, 0);
    metrics?.unfinishedWork(this.name, () => this.queue.unfinishedWork());
    options.for.subscribe((event) => {
      if (options.predicate && !options.predicate(event)) return;
      this.#enqueue(objectKey(event.object), event, options.for.type);
    });
    const primary = options.for.type;
    for (const owned of options.owns ?? []) {
      owned.subscribe((event) => {
        const keys = new Set<string>();
        for (const object of event.old ? [event.old, event.object] : [event.object]) {
          const owner = controllerOf(object);
          if (!owner || !ownerIs(owner, primary)) continue;
          const namespace = object.metadata.namespace;
          keys.add(namespace ? `${namespace}/${owner.name}` : owner.name);
        }
        for (const key of keys) this.#enqueue(key, event, owned.type);
      });
    }
    for (const { informer, map } of options.watches ?? []) {
      informer.subscribe((event) => {
        const keys = new Set(map(event.object));
        if (event.old) { for (const key of map(event.old)) keys.add(key); }
        for (const key of keys) this.#enqueue(key, event, informer.type);
      });
    }
  }

  /**
   * Runs the workers until `signal` aborts, then stops taking work and resolves once every
   * reconcile in flight has finished. Reconcilers see `force`, which the caller aborts when a
   * graceful shutdown runs out of time. Call it after the informers have synced.
   */
  async start(signal: AbortSignal, force: AbortSignal = signal): Promise<void> {
    const stop = () => this.queue.shutDown();
    signal.addEventListener("abort", stop, { once: true });
    if (signal.aborted) stop();
    this.#log.info("Starting workers", { workers: this.#workers });
    await Promise.all(Array.from({ length: this.#workers }, () => this.#work(force)));
    signal.removeEventListener("abort", stop);
    this.#log.info("All workers finished");
  }

  #enqueue(key: string, event: InformerEvent<KubeObject>, source: ResourceType): void {
    const priority = (event.initial ? LOW_PRIORITY : 0) +
      (this.#options.priority?.(key, event, source) ?? 0);
    this.queue.add(key, priority !== 0 ? { priority } : {});
  }

  async #work(signal: AbortSignal): Promise<void> {
    const metrics = this.#options.metrics;
    const labels = { controller: this.name };
    while (true) {
      const item = await this.queue.get();
      if (!item) return;
      const { key, priority } = item;
      metrics?.activeWorkers.inc(labels);
      const started = this.#clock.now();
      const request = { ...parseKey(key), key };
      const log = this.#log.child({
        [this.#options.for.type.kind]: { name: request.name, namespace: request.namespace },
        namespace: request.namespace,
        name: request.name,
        reconcileID: crypto.randomUUID(),
      });
      let ended: { result: Result | void } | { error: unknown };
      try {
        ended = { result: await this.#options.reconcile({ ...request, logger: log }, signal) };
      } catch (error) {
        ended = { error };
      }
      const outcome = reconcileOutcome(ended, priority);
      const action = outcome.action;
      switch (action.kind) {
        case "forget":
          this.queue.forget(key);
          break;
        case "forgetAndAddAfter":
          this.queue.forget(key);
          this.queue.addAfter(key, action.delayMs, { priority: action.priority });
          break;
        case "addRateLimited":
          this.queue.addRateLimited(key, { priority: action.priority });
          break;
      }
      this.queue.done(key);
      metrics?.activeWorkers.dec(labels);
      if ("error" in ended) {
        metrics?.reconcileErrors.inc(labels);
        if (outcome.terminal) {
          metrics?.terminalReconcileErrors.inc(labels);
          log.error("Reconciler error (terminal, not retried)", { error: ended.error });
        } else {
          log.error("Reconciler error", { error: ended.error });
        }
      }
      metrics?.reconcileTotal.inc({ ...labels, result: outcome.result });
      metrics?.reconcileTime.observe(labels, (this.#clock.now() - started) / 1000);
    }
  }
}

/** An owner reference names `type` when group and kind match; the version may be any. */
export function ownerIs(owner: OwnerReference, type: ResourceType): boolean {
  const slash = owner.apiVersion.lastIndexOf("/");
  const group = slash < 0 ? "" : owner.apiVersion.slice(0, slash);
  return owner.kind === type.kind && group === type.group;
}
