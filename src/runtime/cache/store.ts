/**
 * The informer's cache: objects by `namespace/name`, with indexes (client-go's Indexer).
 *
 * Guarantees:
 * - `list({ index, value })` costs time proportional to the matches, not to the cache size.
 * - Objects are deep-frozen when they enter the store, so readers share them safely without
 *   copies; a caller that wants to change one must copy it first (`structuredClone`).
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

/** An indexed, read-mostly map of frozen objects. */
export class Store<T extends KubeObject> {
  readonly #objects = new Map<string, T>();
  readonly #indexFuncs = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys */
  readonly #indexes = new Map<string, Map<string, Set<string>>>();

  constructor() {
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
    return [...(values.get(value) ?? [])];
  }

  /** Inserts or replaces an object; returns the one it replaced. */
  upsert(object: T): T | undefined {
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
      const old = this.upsert(object);
      if (!old) result.added.push(object);
      else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) {
        result.updated.push({ old, object });
      }
    }
    for (const key of [...this.#objects.keys()]) {
      if (!seen.has(key)) result.deleted.push(this.delete(key)!);
    }
    return result;
  }

  #byIndex(index: string, value: string): T[] {
    return this.keysByIndex(index, value).map((key) => this.#objects.get(key)!);
  }

  #addToIndex(name: string, func: IndexFunc<T>, key: string, object: T): void {
    const values = this.#indexes.get(name)!;
    for (const value of func(object)) {
      let keys = values.get(value);
      if (!keys) values.set(value, keys = new Set());
      keys.add(key);
    }
  }

  #unindex(key: string, object: T): void {
    for (const [name, func] of this.#indexFuncs) {
      const values = this.#indexes.get(name)!;
      for (const value of func(object)) {
        const keys = values.get(value);
        keys?.delete(key);
        if (keys?.size === 0) values.delete(value);
      }
    }
  }
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
