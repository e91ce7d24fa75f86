/**
 * The manager owns the process's shared parts: one informer per watched type, the controllers,
 * the Events recorders, leader election, and the shutdown sequence (controller-runtime's
 * Manager).
 *
 * `start(signal)`, in controller-runtime's order:
 * 1. runs every informer and waits until all caches have synced, for at most
 *    `cacheSyncTimeoutMs`; past that it stops and rejects with {@linkcode CacheSyncTimeoutError}
 *    (the process should exit non-zero). A replica whose caches cannot sync (RBAC, a missing
 *    CRD, a list that keeps failing) so never campaigns, and cannot hold the Lease while never
 *    reconciling;
 * 2. with a leader elector, campaigns and waits until elected (followers keep their caches warm);
 * 3. runs the controllers.
 *
 * When `signal` aborts: controllers stop taking work, reconciles in flight get up to
 * `gracefulShutdownMs` to finish (then their signal aborts, which cancels their requests), the
 * lease is released, Events still queued are sent within what is left of that time, watches
 * stop, and `start` resolves. All timers run on the injected {@linkcode Clock}.
 *
 * @module
 */
import { Controller, type ControllerOptions } from "./controller.ts";
import { EventRecorder, type EventRecorderOptions } from "./events.ts";
import { Informer, type InformerOptions } from "../cache/mod.ts";
import {
  apiVersionOf,
  type KubeClient,
  type KubeObject,
  type ResourceType,
} from "../client/mod.ts";
import type { Logger, RuntimeMetrics } from "../observability/mod.ts";
import { type Clock, realClock, type Timer } from "../time/mod.ts";

/** What the manager needs of a leader elector (`LeaderElector` from leader_election/). */
export interface ElectionCandidate {
  /** Resolves when this process becomes leader. */
  readonly elected: Promise<void>;
  /** Campaigns, then holds the lease until `signal` aborts (then releases it). */
  run(signal: AbortSignal): Promise<void>;
}

/** Options for {@linkcode Manager}. */
export interface ManagerOptions {
  client: KubeClient;
  logger: Logger;
  metrics?: RuntimeMetrics;
  /** Watch only this namespace (all namespaces when absent). */
  namespace?: string;
  /** How long reconciles in flight (then queued Events) may take on shutdown. @default 30_000 */
  gracefulShutdownMs?: number;
  /**
   * How long the caches may take to sync before `start` gives up (controller-runtime's
   * `CacheSyncTimeout`). @default 120_000
   */
  cacheSyncTimeoutMs?: number;
  /**
   * Leader election: campaigned for only once the caches have synced; controllers run once it
   * is won. Informers run anyway, so a follower's cache is warm when it takes over.
   * @default none: controllers run as soon as the caches have synced
   */
  leaderElector?: ElectionCandidate;
  /** Source of time for every timeout, and for the controllers' queues. @default {realClock} */
  clock?: Clock;
}

/** The caches did not sync within the cache-sync timeout. */
export class CacheSyncTimeoutError extends Error {
  override name = "CacheSyncTimeoutError";
  constructor(readonly timeoutMs: number, readonly unsynced: string[]) {
    super(
      `Timed out after ${timeoutMs / 1000} s waiting for caches to sync: ${unsynced.join(", ")} ` +
        "never listed (check RBAC, installed CRDs and the informers' logged errors)",
    );
  }
}

/** Wires informers and controllers and runs them. Constructing it starts nothing. */
export class Manager {
  readonly #options: ManagerOptions;
  readonly #clock: Clock;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  readonly #controllers: Controller<KubeObject>[] = [];
  readonly #recorders: EventRecorder[] = [];
  #started = false;

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? realClock;
  }

  get client(): KubeClient {
    return this.#options.client;
  }

  get logger(): Logger {
    return this.#options.logger;
  }

  /** The shared informer of `type`, created on first use. */
  informer<T extends KubeObject>(
    type: ResourceType,
    options: Omit<InformerOptions<T>, "namespace" | "logger"> = {},
  ): Informer<T> {
    const id = informerId(type);
    let informer = this.#informers.get(id);
    if (!informer) {
      if (this.#started) throw new Error(`Informer for ${id} requested after start`);
      informer = new Informer<T>(this.client, type, {
        ...options,
        ...(this.#options.namespace && type.namespaced
          ? { namespace: this.#options.namespace }
          : {}),
        logger: this.logger,
      }) as unknown as Informer<KubeObject>;
      this.#informers.set(id, informer);
    }
    return informer as unknown as Informer<T>;
  }

  /** Adds a controller, built from the manager's logger, metrics and clock. */
  controller<T extends KubeObject>(
    options: Omit<ControllerOptions<T>, "logger" | "metrics" | "clock">,
  ): Controller<T> {
    const controller = new Controller<T>({
      ...options,
      logger: this.logger,
      clock: this.#clock,
      ...(this.#options.metrics ? { metrics: this.#options.metrics } : {}),
    });
    this.#controllers.push(controller as unknown as Controller<KubeObject>);
    return controller;
  }

  /**
   * An Events recorder (controller-runtime's `GetEventRecorderFor`) on the manager's client,
   * logger and clock unless given others. The manager flushes it on shutdown.
   */
  eventRecorder(
    options:
      & Omit<EventRecorderOptions, "client" | "logger" | "clock">
      & Partial<Pick<EventRecorderOptions, "client" | "logger">>,
  ): EventRecorder {
    const recorder = new EventRecorder({
      client: this.client,
      logger: this.logger,
      ...options,
      clock: this.#clock,
    });
    this.#recorders.push(recorder);
    return recorder;
  }

  /** True once every informer has listed. */
  get cachesSynced(): boolean {
    return [...this.#informers.values()].every((i) => i.hasSynced);
  }

  /** The informers, for health reporting. */
  get informers(): Informer<KubeObject>[] {
    return [...this.#informers.values()];
  }

  /**
   * Waits until every informer has synced (they must be running, as `start` runs them).
   *
   * @returns `true` once synced, `false` if `signal` aborts first.
   * @throws {CacheSyncTimeoutError} when `cacheSyncTimeoutMs` passes first.
   */
  waitForCacheSync(signal: AbortSignal): Promise<boolean> {
    const informers = this.informers;
    if (informers.every((i) => i.hasSynced)) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    const timeoutMs = this.#options.cacheSyncTimeoutMs ?? 120_000;
    return new Promise<boolean>((resolve, reject) => {
      const finish = (outcome: () => void) => {
        timer.cancel();
        signal.removeEventListener("abort", onAbort);
        outcome();
      };
      const onAbort = () => finish(() => resolve(false));
      const timer = this.#clock.setTimer(timeoutMs, () =>
        finish(() => {
          const unsynced = informers.filter((i) => !i.hasSynced).map((i) => informerId(i.type));
          reject(new CacheSyncTimeoutError(timeoutMs, unsynced));
        }));
      signal.addEventListener("abort", onAbort, { once: true });
      Promise.all(informers.map((i) => i.synced)).then(() => finish(() => resolve(true)));
    });
  }

  /**
   * Runs everything until `signal` aborts; resolves after a graceful shutdown.
   * @throws {CacheSyncTimeoutError} when the caches do not sync in time (after stopping).
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error("Manager.start() may be called once");
    this.#started = true;
    const log = this.logger;
    const clock = this.#clock;
    const watches = new AbortController();
    const started = clock.now();
    const running = this.informers.map((i) => i.run(watches.signal));
    const grace = this.#options.gracefulShutdownMs ?? 30_000;
    const force = new AbortController();
    let forceTimer: Timer | undefined;
    const armForce = () => {
      forceTimer ??= clock.setTimer(grace, () => {
        force.abort(new Error(`Graceful shutdown timed out after ${grace} ms`));
      });
    };
    const onStop = () => {
      log.info("Shutting down; waiting for reconciles in flight", { graceMs: grace });
      armForce();
    };
    signal.addEventListener("abort", onStop, { once: true });
    const election = new AbortController();
    let electing: Promise<void> | undefined;
    try {
      if (!await this.waitForCacheSync(signal)) return;
      log.info("Caches synced", {
        informers: this.#informers.size,
        objects: this.informers.reduce((n, i) => n + i.store.size, 0),
        ms: Math.round(clock.now() - started),
      });
      const elector = this.#options.leaderElector;
      if (elector) {
        electing = elector.run(election.signal);
        await abortable(elector.elected, signal);
        if (signal.aborted) return;
      }
      await Promise.all(this.#controllers.map((c) => c.start(signal, force.signal)));
    } finally {
      signal.removeEventListener("abort", onStop);
      armForce();
      election.abort(); // Controllers have stopped: only now hand the lease over.
      await electing;
      await Promise.all(this.#recorders.map((r) => r.flush(force.signal)));
      forceTimer?.cancel();
      if (!force.signal.aborted) force.abort();
      watches.abort();
      await Promise.all(running);
    }
  }
}

/** `group/version/plural`, which names an informer in errors and keeps them apart. */
function informerId(type: ResourceType): string {
  return `${apiVersionOf(type)}/${type.plural}`;
}

/** Resolves when `promise` settles or `signal` aborts, whichever is first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
