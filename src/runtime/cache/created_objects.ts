/**
 * Read-your-own-creates over an informer's cache: the objects a reconciler created that the
 * cache has not shown yet, as kube-controller-manager's `ControllerExpectations` remember the
 * creations a controller still waits to observe. Without them, a reconcile that runs between a
 * create and its watch event finds no object, creates it again and is refused (409), then reads
 * it back: two requests for nothing, for every object created while a watch lags or relists.
 *
 * Guarantees:
 * - The cache wins: once it holds the key, that object is returned and the entry is dropped.
 * - An entry is dropped at the first event the informer delivers for its key (the object's
 *   arrival, an update, or its deletion), and otherwise after `ttlMs`, so a creation whose
 *   events never come (a watch that relisted after the object was deleted again) hides a missing
 *   object for `ttlMs` at most; after that, the reconciler creates it again as before.
 * - Bounded by the creations in flight: every entry goes with its event or its time.
 *
 * @module
 */
import type { KubeObject } from "../client/mod.ts";
import { objectKey } from "../client/mod.ts";
import { type Clock, realClock } from "../time/mod.ts";
import type { InformerEvent } from "./informer_event.ts";
import { deepFreeze, type ReadonlyStore } from "./store.ts";

/** The part of an informer {@linkcode CreatedObjects} reads: its store and its events. */
export interface ObservedCache<T extends KubeObject> {
  readonly store: ReadonlyStore<T>;
  subscribe(handler: (event: InformerEvent<T>) => void): () => void;
}

/** Options for {@linkcode CreatedObjects}. */
export interface CreatedObjectsOptions {
  /** How long a created object stands in for one the cache has not shown. @default 60_000 */
  ttlMs?: number;
  /** @default realClock */
  clock?: Clock;
}

/**
 * One informer's cache, plus the objects created through {@linkcode CreatedObjects.created}
 * that it does not hold yet.
 *
 * @example A creation stands in until the cache shows it
 * ```ts
 * import assert from "node:assert/strict";
 * import { CreatedObjects, Store } from "./mod.ts";
 *
 * const store = new Store();
 * const cache = { store, subscribe: () => () => {} };
 * const objects = new CreatedObjects(cache);
 * const made = { metadata: { namespace: "ns", name: "db", uid: "1" } };
 * objects.created(made);
 * assert.equal(objects.get("ns/db"), made);
 * ```
 */
export class CreatedObjects<T extends KubeObject> {
  readonly #cache: ObservedCache<T>;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #pending = new Map<string, { object: T; at: number }>();

  constructor(cache: ObservedCache<T>, options: CreatedObjectsOptions = {}) {
    this.#cache = cache;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#clock = options.clock ?? realClock;
    cache.subscribe((event) => {
      if (this.#pending.size > 0) this.#pending.delete(objectKey(event.object));
    });
  }

  /** Records `object` (as the cache would hold it) as just created; freezes it, as the cache does. */
  created(object: T): void {
    this.#pending.set(objectKey(object), { object: deepFreeze(object), at: this.#clock.now() });
  }

  /** The cached object under `key` (`namespace/name`), or one created here not cached yet. */
  get(key: string): T | undefined {
    const cached = this.#cache.store.get(key);
    const pending = this.#pending.get(key);
    if (!pending) return cached;
    if (!cached && this.#clock.now() - pending.at < this.#ttlMs) return pending.object;
    this.#pending.delete(key);
    return cached;
  }
}
