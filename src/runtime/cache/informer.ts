/**
 * Keeps a store equal to the server's state of one resource type and tells subscribers what
 * changed (client-go's SharedIndexInformer, kube-rs's reflector).
 *
 * Guarantees:
 * - After a relist (first start, 410 Gone), the store's content is swapped at once for the fresh
 *   list, and subscribers hear about every difference, deletions that happened while the watch
 *   was down included: no final state is lost.
 * - An event whose resourceVersion equals the cached one is not passed on.
 * - Only events from the very first list are marked `initial`, so controllers can enqueue
 *   them at low priority; differences found by a later relist are real changes.
 * - Failed lists and watches are retried with a backoff that grows from 0.8 s to 30 s and only
 *   falls back after 2 minutes without a failure (see `Backoff`).
 * - User code cannot stop it: a transform, index function or subscriber (a controller's
 *   predicate included) that throws is logged and counted in {@linkcode Informer.handlerErrors}
 *   (`informer_handler_errors_total`), and the informer goes on. An object whose transform
 *   threw is cached as received, so the cache stays complete.
 * - Readers get {@linkcode Informer.store}, a read-only view; only the informer writes.
 *
 * @module
 */
import { Backoff, type BackoffOptions, type Clock, realClock, withBackoff } from "../time/mod.ts";
import { ApiError, type KubeObject, objectKey, type ResourceType } from "../client/mod.ts";
import type { Logger } from "../observability/mod.ts";
import type { InformerEvent } from "./informer_event.ts";
import { type IndexFunc, type ReadonlyStore, Store } from "./store.ts";
import { applyWatcherEvent, type StoreWriter, storeWriter } from "./reflector.ts";
import {
  type ListWatchClient,
  watcher,
  type WatcherEvent,
  type WatcherOptions,
} from "./watcher.ts";

/** Options for {@linkcode Informer}. */
export interface InformerOptions<T> extends WatcherOptions {
  /**
   * Rewrites each object before it is cached (client-go's `SetTransform`).
   * @default strips `metadata.managedFields`, which often doubles an object's size
   */
  transform?: (object: T) => T;
  logger?: Logger;
  /** How failed lists and watches are retried; its clock defaults to `clock`. */
  backoff?: BackoffOptions;
}

/** Where user code given to an informer failed. */
export type HandlerStage = "transform" | "index" | "subscriber";

/** Removes `metadata.managedFields`; the operator never reads them. */
export function stripManagedFields<T extends KubeObject>(object: T): T {
  // Rebuilt rather than `delete`d: deleting a property drops V8 to a slower, larger
  // dictionary-mode object, which costs more memory than the field saved.
  const { managedFields: _, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/** One resource type's cache, fed by a list-watch. Constructing it starts nothing. */
export class Informer<T extends KubeObject> {
  /** The cache, read-only: the informer alone writes it. */
  readonly store: ReadonlyStore<T>;
  readonly #writer: StoreWriter<T>;
  readonly #subscribers = new Set<(event: InformerEvent<T>) => void>();
  readonly #transform: (object: T) => T;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #synced: Promise<void>;
  readonly #errors: Record<HandlerStage, number> = { transform: 0, index: 0, subscriber: 0 };
  #markSynced!: () => void;
  #lastEventAt = 0;

  constructor(
    readonly client: ListWatchClient,
    readonly type: ResourceType,
    readonly options: InformerOptions<T> = {},
  ) {
    this.#transform = options.transform ?? stripManagedFields;
    this.#clock = options.clock ?? realClock;
    this.#log = options.logger?.child({ resource: type.plural });
    const store = new Store<T>({
      onIndexError: (error, index, object) =>
        this.#failed("index", error, { index, key: objectKey(object) }),
    });
    this.#writer = storeWriter(store);
    this.store = store.readonly();
    this.#synced = new Promise((resolve) => (this.#markSynced = resolve));
  }

  /** Resolves once the first list is in the store. */
  get synced(): Promise<void> {
    return this.#synced;
  }

  get hasSynced(): boolean {
    return this.#writer.synced;
  }

  /** When the last list or watch event (bookmarks included) arrived: wall time, ms since the epoch. */
  get lastEventAt(): number {
    return this.#lastEventAt;
  }

  /** How many times each kind of user code has thrown so far. */
  get handlerErrors(): Readonly<Record<HandlerStage, number>> {
    return this.#errors;
  }

  /**
   * Adds an index to the cache, such as one on `spec.environment`; objects already cached are
   * indexed at once. An index function that throws leaves that object out of the index.
   * @throws {Error} when an index of that name exists.
   */
  indexField(name: string, func: IndexFunc<T>): void {
    this.#writer.store.indexField(name, func);
  }

  /** Calls `handler` synchronously for every change; returns an unsubscribe function. */
  subscribe(handler: (event: InformerEvent<T>) => void): () => void {
    this.#subscribers.add(handler);
    return () => this.#subscribers.delete(handler);
  }

  /** Runs the list-watch until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const events = withBackoff(
      watcher<T>(this.client, this.type, signal, this.options),
      new Backoff({ clock: this.#clock, ...this.options.backoff }),
      signal,
    );
    for await (const event of events) {
      if (event.type === "error") {
        this.#log?.warn("Watch interrupted; resuming", {
          error: event.error,
          ...(event.error instanceof ApiError
            ? { code: event.error.code, reason: event.error.reason }
            : {}),
        });
        continue;
      }
      this.#lastEventAt = this.#clock.wallNow();
      const wasSynced = this.#writer.synced;
      for (const change of applyWatcherEvent(this.#writer, this.#transformed(event))) {
        this.#emit(change);
      }
      if (!wasSynced && this.#writer.synced) {
        this.#markSynced();
        this.#log?.debug("Cache synced", { objects: this.store.size });
      }
    }
  }

  /** The event with its object transformed; as received when the transform throws. */
  #transformed(event: WatcherEvent<T>): WatcherEvent<T> {
    if (event.type !== "initApply" && event.type !== "apply") return event;
    try {
      return { type: event.type, object: this.#transform(event.object) };
    } catch (error) {
      this.#failed("transform", error, { key: objectKey(event.object) });
      return event;
    }
  }

  #emit(event: InformerEvent<T>): void {
    for (const subscriber of this.#subscribers) {
      try {
        subscriber(event);
      } catch (error) {
        this.#failed("subscriber", error, { event: event.type, key: objectKey(event.object) });
      }
    }
  }

  #failed(stage: HandlerStage, error: unknown, details: Record<string, unknown>): void {
    this.#errors[stage]++;
    const what = { transform: "transform", index: "index function", subscriber: "subscriber" };
    this.#log?.error(`Informer ${what[stage]} threw; carrying on`, { error, stage, ...details });
  }
}
