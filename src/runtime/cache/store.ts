/**
 * The informer's cache: objects by `namespace/name`, with indexes (client-go's Indexer).
 *
 * Guarantees:
 * - `list({ index, value })` costs time proportional to the matches, not to the cache size.
 * - Objects are deep-frozen when they enter the store, so readers share them safely without
 *   copies; a caller that wants to change one must copy it first (`structuredClone`).
 * - An index function that throws leaves that object out of that index only; the store stays
 *   consistent and the error goes to `onIndexError` (thrown once the change is done, without one).
 * - Readers get a {@linkcode ReadonlyStore}: the informer keeps the writer (kube-rs's reflector
 *   `Writer` and `Store`), so a reconciler cannot put into the cache what the server does not have.
 *
 * Built-in indexes: `namespace` and `owner` (the UID of the controller owner reference).
 *
 * @module
 */
import { controllerOf, type KubeObject, objectKey } from "../client/mod.ts";

/** Computes the index values of an object; an empty array leaves it out of the index. */
export type IndexFunc<T> = (object: T) => string[];

/** The built-in index of objects by namespace. */
export const NAMESPACE_INDEX = "namespace";
/** The built-in index of objects by the UID of their controller owner. */
export const OWNER_INDEX = "owner";

/** What `list()` selects. */
export type ListOptions = { namespace?: string } | { index: string; value: string };

/** How the store changed when the informer replaced its contents after a (re)list. */
export interface ReplaceResult<T> {
  added: T[];
  updated: { old: T; object: T }[];
  deleted: T[];
}

/** What reconcilers and controllers read of a cache: no writes. */
export interface ReadonlyStore<T extends KubeObject> {
  /** Number of cached objects. */
  readonly size: number;
  /** One object by key (`namespace/name`). */
  get(key: string): T | undefined;
  /** All objects, those of one namespace, or those an index maps to one value. */
  list(options?: ListOptions): T[];
  /** The keys an index maps to `value`. */
  keysByIndex(index: string, value: string): string[];
  /** Whether an index maps `value` to `key`, without copying the index's keys. */
  indexHas(index: string, value: string, key: string): boolean;
}

/** Told about an index function that threw on `object`; the object is left out of `index`. */
export type IndexErrorHandler<T> = (error: unknown, index: string, object: T) => void;

/** Options for {@linkcode Store}. */
export interface StoreOptions<T> {
  /** Receives index function failures. @default none: the change completes, then the error is thrown */
  onIndexError?: IndexErrorHandler<T>;
}

/** An indexed, read-mostly map of frozen objects. */
export class Store<T extends KubeObject> implements ReadonlyStore<T> {
  readonly #objects = new Map<string, T>();
  readonly #indexFuncs = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  /**
   * Index name → value → the keys it maps to: one key as itself, more as a Set. Most values
   * (an owner's UID) map to one object or a few, and ten thousand one-key Sets cost megabytes.
   */
  readonly #indexes = new Map<string, Map<string, string | Set<string>>>();
  readonly #onIndexError: IndexErrorHandler<T> | undefined;
  /** Index failures of the change in progress, reported once it is complete. */
  #failures: { error: unknown; index: string; object: T }[] = [];
  #view?: ReadonlyStore<T>;

  constructor(options: StoreOptions<T> = {}) {
    this.#onIndexError = options.onIndexError;
    this.indexField(NAMESPACE_INDEX, (o) => (o.metadata.namespace ? [o.metadata.namespace] : []));
    this.indexField(OWNER_INDEX, (o) => {
      const owner = controllerOf(o);
      return owner ? [owner.uid] : [];
    });
  }

  /**
   * Adds an index, such as one on `spec.environment`; existing objects are indexed at once.
   * @throws {Error} when an index of that name exists.
   */
  indexField(name: string, func: IndexFunc<T>): void {
    if (this.#indexFuncs.has(name)) throw new Error(`Index ${name} already exists`);
    this.#indexFuncs.set(name, func);
    this.#indexes.set(name, new Map());
    for (const [key, object] of this.#objects) this.#addToIndex(name, func, key, object);
    this.#report();
  }

  /** A view of this store that can only read, for handing out. */
  readonly(): ReadonlyStore<T> {
    if (this.#view) return this.#view;
    // Delegates rather than exposing `this`, so a cast cannot turn a reader into a writer.
    const size = () => this.size;
    return this.#view = Object.freeze({
      get size() {
        return size();
      },
      get: (key: string) => this.get(key),
      list: (options?: ListOptions) => this.list(options),
      keysByIndex: (index: string, value: string) => this.keysByIndex(index, value),
      indexHas: (index: string, value: string, key: string) => this.indexHas(index, value, key),
    });
  }

  /** Number of cached objects. */
  get size(): number {
    return this.#objects.size;
  }

  /** One object by key (`namespace/name`). */
  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  /** All objects, those of one namespace, or those an index maps to one value. */
  list(options?: ListOptions): T[] {
    if (!options) return [...this.#objects.values()];
    if ("index" in options) return this.#byIndex(options.index, options.value);
    if (options.namespace === undefined) return [...this.#objects.values()];
    return this.#byIndex(NAMESPACE_INDEX, options.namespace);
  }

  /** The keys an index maps to `value`. */
  keysByIndex(index: string, value: string): string[] {
    const values = this.#indexes.get(index);
    if (!values) throw new Error(`No index named ${index}`);
    const keys = values.get(value);
    if (keys === undefined) return [];
    return typeof keys === "string" ? [keys] : [...keys];
  }

  /** Whether an index maps `value` to `key`, without copying the index's keys. */
  indexHas(index: string, value: string, key: string): boolean {
    const values = this.#indexes.get(index);
    if (!values) throw new Error(`No index named ${index}`);
    const keys = values.get(value);
    return typeof keys === "string" ? keys === key : keys?.has(key) ?? false;
  }

  /** Inserts or replaces an object; returns the one it replaced. */
  upsert(object: T): T | undefined {
    const old = this.#upsert(object);
    this.#report();
    return old;
  }

  #upsert(object: T): T | undefined {
    const key = objectKey(object);
    const old = this.#objects.get(key);
    if (old) this.#unindex(key, old);
    deepFreeze(object);
    this.#objects.set(key, object);
    for (const [name, func] of this.#indexFuncs) this.#addToIndex(name, func, key, object);
    return old;
  }

  /** Removes an object by key; returns it. */
  delete(key: string): T | undefined {
    const old = this.#delete(key);
    this.#report();
    return old;
  }

  #delete(key: string): T | undefined {
    const old = this.#objects.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#objects.delete(key);
    return old;
  }

  /** Swaps the whole content for a fresh list and reports the difference. */
  replace(objects: Iterable<T>): ReplaceResult<T> {
    const result: ReplaceResult<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const object of objects) {
      const key = objectKey(object);
      seen.add(key);
      const old = this.#upsert(object);
      if (!old) result.added.push(object);
      else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) {
        result.updated.push({ old, object });
      }
    }
    for (const key of [...this.#objects.keys()]) {
      if (!seen.has(key)) result.deleted.push(this.#delete(key)!);
    }
    this.#report();
    return result;
  }

  #byIndex(index: string, value: string): T[] {
    return this.keysByIndex(index, value).map((key) => this.#objects.get(key)!);
  }

  #addToIndex(name: string, func: IndexFunc<T>, key: string, object: T): void {
    const values = this.#indexes.get(name)!;
    let computed: string[];
    try {
      computed = func(object);
    } catch (error) {
      this.#failures.push({ error, index: name, object });
      return;
    }
    for (const value of computed) {
      const keys = values.get(value);
      if (keys === undefined) values.set(value, key);
      else if (typeof keys !== "string") keys.add(key);
      else if (keys !== key) values.set(value, new Set([keys, key]));
    }
  }

  #unindex(key: string, object: T): void {
    for (const [name, func] of this.#indexFuncs) {
      const values = this.#indexes.get(name)!;
      let computed: string[];
      try {
        computed = func(object);
      } catch {
        // The function may have worked when the object came in, so the key may be anywhere:
        // look under every value (slow, but only on this error path). Its failure was already
        // reported when the object came in, unless the function is impure.
        computed = [...values.keys()];
      }
      for (const value of computed) {
        const keys = values.get(value);
        if (keys === key) values.delete(value);
        else if (keys instanceof Set && keys.delete(key) && keys.size === 1) {
          values.set(value, keys.values().next().value!);
        }
      }
    }
  }

  /** Hands the index failures of the change just completed to the handler, or throws. */
  #report(): void {
    if (this.#failures.length === 0) return;
    const failures = this.#failures;
    this.#failures = [];
    if (!this.#onIndexError) {
      const { error, index, object } = failures[0]!;
      throw new Error(`Index ${index} failed on ${objectKey(object)}: ${error}`, { cause: error });
    }
    for (const { error, index, object } of failures) this.#onIndexError(error, index, object);
  }
}

/** Freezes `value` and everything in it (stopping at parts already frozen); returns it. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
  return value;
}
