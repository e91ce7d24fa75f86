/**
 * The manager owns the process's shared parts: one informer per watched type, the controllers,
 * and the shutdown sequence (controller-runtime's Manager).
 *
 * `start(signal)`: runs every informer, waits until all caches have synced, then runs the
 * controllers. When `signal` aborts: controllers stop taking work, reconciles in flight get up
 * to `gracefulShutdownMs` to finish (then their signal aborts), watches stop, and `start`
 * resolves.
 *
 * @module
 */
import { Controller, type ControllerOptions } from "./controller.ts";
import { Informer, type InformerOptions } from "../cache/mod.ts";
import {
  apiVersionOf,
  type KubeClient,
  type KubeObject,
  type ResourceType,
} from "../client/mod.ts";
import type { Logger, RuntimeMetrics } from "../observability/mod.ts";

/** Options for {@linkcode Manager}. */
export interface ManagerOptions {
  client: KubeClient;
  logger: Logger;
  metrics?: RuntimeMetrics;
  /** Watch only this namespace (all namespaces when absent). */
  namespace?: string;
  /** How long reconciles in flight may take to finish on shutdown. @default 30_000 */
  gracefulShutdownMs?: number;
  /**
   * Resolves when this process may run controllers (leader election); informers run anyway so
   * a follower's cache is warm when it takes over. @default immediately
   */
  elected?: (signal: AbortSignal) => Promise<void>;
}

/** Wires informers and controllers and runs them. Constructing it starts nothing. */
export class Manager {
  readonly #options: ManagerOptions;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  readonly #controllers: Controller<KubeObject>[] = [];
  #started = false;

  constructor(options: ManagerOptions) {
    this.#options = options;
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
    const id = `${apiVersionOf(type)}/${type.plural}`;
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

  /** Adds a controller, built from the manager's logger and metrics. */
  controller<T extends KubeObject>(
    options: Omit<ControllerOptions<T>, "logger" | "metrics">,
  ): Controller<T> {
    const controller = new Controller<T>({
      ...options,
      logger: this.logger,
      ...(this.#options.metrics ? { metrics: this.#options.metrics } : {}),
    });
    this.#controllers.push(controller as unknown as Controller<KubeObject>);
    return controller;
  }

  /** True once every informer has listed. */
  get cachesSynced(): boolean {
    return [...this.#informers.values()].every((i) => i.hasSynced);
  }

  /** The informers, for health reporting. */
  get informers(): Informer<KubeObject>[] {
    return [...this.#informers.values()];
  }

  /** Runs everything until `signal` aborts; resolves after a graceful shutdown. */
  async start(signal: AbortSignal): Promise<void> {
    this.#started = true;
    const log = this.logger;
    const watches = new AbortController();
    const started = performance.now();
    const running = this.informers.map((i) => i.run(watches.signal));
    const force = new AbortController();
    let forceTimer: ReturnType<typeof setTimeout> | undefined;
    try {
      await abortable(Promise.all(this.informers.map((i) => i.synced)), signal);
      if (signal.aborted) return;
      log.info("Caches synced", {
        informers: this.#informers.size,
        objects: this.informers.reduce((n, i) => n + i.store.size, 0),
        ms: Math.round(performance.now() - started),
      });
      await abortable(this.#options.elected?.(signal) ?? Promise.resolve(), signal);
      if (signal.aborted) return;
      const grace = this.#options.gracefulShutdownMs ?? 30_000;
      const onStop = () => {
        log.info("Shutting down; waiting for reconciles in flight", { graceMs: grace });
        forceTimer = setTimeout(() => force.abort(new Error("Graceful shutdown timed out")), grace);
      };
      signal.addEventListener("abort", onStop, { once: true });
      await Promise.all(this.#controllers.map((c) => c.start(signal, force.signal)));
    } finally {
      clearTimeout(forceTimer);
      if (!force.signal.aborted) force.abort();
      watches.abort();
      await Promise.all(running);
    }
  }
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
