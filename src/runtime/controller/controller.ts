/**
 * A controller: watches a primary type and the types it owns, queues the keys of primary
 * objects that may need work, and runs `maxConcurrentReconciles` workers over the queue.
 *
 * Guarantees (from the work queue): one worker per key at a time; a burst of events for one key
 * becomes one reconcile; the initial list enters at low priority so real changes overtake it.
 * A reconciler that throws never stops the controller.
 *
 * @module
 */
import type { Informer, InformerEvent } from "../cache/mod.ts";
import type { Logger, RuntimeMetrics } from "../observability/mod.ts";
import { LOW_PRIORITY, type RateLimiter, WorkQueue } from "../queue/mod.ts";
import { type Reconciler, type Result, TerminalError } from "./reconcile.ts";
import {
  apiVersionOf,
  controllerOf,
  type KubeObject,
  objectKey,
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
  /** Hold each key this long after its first event, so a burst becomes one reconcile. @default 0 */
  debounceMs?: number;
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
}

/** Runs reconciles for one primary type. Constructing it only subscribes to its informers. */
export class Controller<T extends KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  readonly #options: ControllerOptions<T>;
  readonly #workers: number;
  readonly #log: Logger;

  constructor(options: ControllerOptions<T>) {
    this.name = options.name;
    this.#options = options;
    this.#workers = Math.max(1, options.maxConcurrentReconciles ?? 2);
    this.#log = options.logger.child({
      controller: options.name,
      controllerGroup: options.for.type.group,
      controllerKind: options.for.type.kind,
    });
    this.queue = new WorkQueue<string>({
      name: options.name,
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
      ...(options.metrics ? { metrics: options.metrics.workQueue(options.name) } : {}),
    });
    options.metrics?.maxConcurrentReconciles.set({ controller: this.name }, this.#workers);
    options.metrics?.activeWorkers.set({ controller: this.name }, 0);
    options.metrics?.unfinishedWork(this.name, () => this.queue.unfinishedWork());
    options.for.subscribe((event) => {
      if (options.predicate && !options.predicate(event)) return;
      this.#enqueue(objectKey(event.object), event, options.for.type);
    });
    const primary = options.for.type;
    for (const owned of options.owns ?? []) {
      owned.subscribe((event) => {
        const owner = controllerOf(event.object);
        if (!owner || !ownerIs(owner, primary)) return;
        const namespace = event.object.metadata.namespace;
        this.#enqueue(namespace ? `${namespace}/${owner.name}` : owner.name, event, owned.type);
      });
    }
    for (const { informer, map } of options.watches ?? []) {
      informer.subscribe((event) => {
        for (const key of map(event.object)) this.#enqueue(key, event, informer.type);
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
    const options = priority !== 0 ? { priority } : {};
    const debounce = this.#options.debounceMs ?? 0;
    if (debounce > 0) this.queue.addAfter(key, debounce, options);
    else this.queue.add(key, options);
  }

  async #work(signal: AbortSignal): Promise<void> {
    const metrics = this.#options.metrics;
    const labels = { controller: this.name };
    while (true) {
      const item = await this.queue.get();
      if (!item) return;
      const { key, priority } = item;
      metrics?.activeWorkers.inc(labels);
      const started = performance.now();
      const request = { ...parseKey(key), key };
      const log = this.#log.child({
        [this.#options.for.type.kind]: { name: request.name, namespace: request.namespace },
        namespace: request.namespace,
        name: request.name,
        reconcileID: crypto.randomUUID(),
      });
      let result: Result | void;
      let outcome: string;
      try {
        result = await this.#options.reconcile({ ...request, logger: log }, signal);
        if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
          this.queue.forget(key);
          this.queue.addAfter(key, result.requeueAfterMs, { priority: result.priority ?? 0 });
          outcome = "requeue_after";
        } else if (result?.requeue) {
          this.queue.addRateLimited(key, { priority: result.priority ?? priority });
          outcome = "requeue";
        } else {
          this.queue.forget(key);
          outcome = "success";
        }
      } catch (error) {
        outcome = "error";
        metrics?.reconcileErrors.inc(labels);
        if (error instanceof TerminalError) {
          metrics?.terminalReconcileErrors.inc(labels);
          this.queue.forget(key);
          log.error("Reconciler error (terminal, not retried)", { error });
        } else {
          this.queue.addRateLimited(key, { priority });
          log.error("Reconciler error", { error });
        }
      } finally {
        this.queue.done(key);
        metrics?.activeWorkers.dec(labels);
      }
      metrics?.reconcileTotal.inc({ ...labels, result: outcome });
      metrics?.reconcileTime.observe(labels, (performance.now() - started) / 1000);
    }
  }
}

function ownerIs(owner: { apiVersion: string; kind: string }, type: ResourceType): boolean {
  return owner.kind === type.kind && owner.apiVersion === apiVersionOf(type);
}
