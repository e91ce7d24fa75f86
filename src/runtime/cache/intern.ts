/**
 * One shared copy of each repeated value in cached objects. `JSON.parse` makes a fresh copy of
 * everything, so ten thousand StatefulSets stamped from one template hold ten thousand copies of
 * the same probes, security contexts, volume lists and kilobyte-long scripts, and every object its
 * own namespace and label strings. Cached objects are frozen, so equal parts can be one object.
 *
 * Guarantees:
 * - Bounded: each table holds at most `2 × capacity` entries. It has two generations; an entry
 *   used again while in the older one moves to the newer one, and the older one is dropped whole
 *   when the newer one fills up. Values every object repeats stay; values seen once (UIDs,
 *   passwords, a Database's own labels) pass through and age out.
 * - Interning never changes a value: a shared part is deeply equal to the part it replaces, with
 *   the same keys in the same order. Shared parts are frozen.
 * - Parts that hold a `uid` or `resourceVersion` (metadata, owner references) are never looked
 *   up: they differ in every object and every version. Their other parts still are.
 *
 * @module
 */

/** A bounded map that keeps what is used again; see the module documentation. */
class Generations<V> {
  #current = new Map<string, V>();
  #previous = new Map<string, V>();

  constructor(readonly capacity: number) {}

  has(key: string): boolean {
    return this.#current.has(key) || this.#previous.has(key);
  }

  /** The value under `key` (moved to the newer generation), or `make()`'s, now stored. */
  getOrSet(key: string, make: () => V): V {
    const current = this.#current.get(key);
    if (current !== undefined) return current;
    const value = this.#previous.get(key) ?? make();
    if (this.#current.size >= this.capacity) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(key, value);
    return value;
  }
}

/** A bounded table of canonical strings; see the module documentation. */
export class StringTable {
  readonly #strings: Generations<string>;

  /** @param capacity strings per generation. @default 16_384 */
  constructor(readonly capacity = 16_384) {
    this.#strings = new Generations(capacity);
  }

  /** Whether the table holds a copy of `value`. */
  has(value: string): boolean {
    return this.#strings.has(value);
  }

  /** The canonical copy of `value`. */
  intern(value: string): string {
    return this.#strings.getOrSet(value, () => value);
  }
}

/** Strings at least this long are named in keys by an id, not spelled out. */
const LONG_STRING = 128;

/**
 * A bounded table of canonical, frozen objects and arrays, keyed by their contents. A key names
 * a part's children by the ids of their own canonical copies, so building one costs the part's
 * size, not its depth.
 */
export class SubtreeTable {
  readonly #parts: Generations<{ value: object; id: number }>;
  readonly #longStrings: Generations<string>;
  #nextId = 0;

  /** @param capacity parts per generation. @default 4_096 */
  constructor(readonly capacity = 4_096) {
    this.#parts = new Generations(capacity);
    this.#longStrings = new Generations(capacity);
  }

  /**
   * How a key names a (canonical) string: its JSON, or an id when it is long, so that a part
   * holding a script kilobytes long gets a short key (and the script's hash, which V8 keeps on
   * the string, is computed once).
   */
  token(value: string): string {
    if (value.length < LONG_STRING) return JSON.stringify(value);
    return this.#longStrings.getOrSet(value, () => `$${this.#nextId++}`);
  }

  /** The canonical part under `key`, `value` itself (frozen) when it is the first. */
  canonical(key: string, value: object): { value: object; id: number } {
    return this.#parts.getOrSet(key, () => ({ value: Object.freeze(value), id: this.#nextId++ }));
  }
}

/** Keys whose values differ in every object and every version: never worth a table entry. */
const UNIQUE_KEYS = new Set(["uid", "resourceVersion"]);

/** The tables shared by every cache, so objects of different types share parts too. */
export const CACHE_STRINGS: StringTable = new StringTable();
export const CACHE_SUBTREES: SubtreeTable = new SubtreeTable();

/**
 * Replaces, in place, every string in `value` by its canonical copy from `strings` and every
 * object or array by its canonical copy from `subtrees`; returns `value`, or its canonical copy.
 * Only for objects nobody else holds yet, such as one just parsed from the API; frozen parts are
 * left as they are.
 *
 * @example Two objects stamped from one template share their common parts
 * ```ts
 * import assert from "node:assert/strict";
 * import { intern } from "./intern.ts";
 *
 * const probe = () => ({ exec: { command: ["pg_isready"] }, periodSeconds: 10 });
 * const a = intern({ name: "a", probe: probe() });
 * const b = intern({ name: "b", probe: probe() });
 * assert.equal(a.probe, b.probe);
 * assert.deepEqual(b, { name: "b", probe: probe() });
 * ```
 */
export function intern<T>(
  value: T,
  strings: StringTable = CACHE_STRINGS,
  subtrees: SubtreeTable = CACHE_SUBTREES,
): T {
  return internPart(value, strings, subtrees).value as T;
}

/**
 * A part's canonical copy and the token its parent's key names it by: a primitive's JSON, a
 * shared part's id, or `undefined` for a part that is not shared (so neither is its parent).
 */
function internPart(
  value: unknown,
  strings: StringTable,
  subtrees: SubtreeTable,
): { value: unknown; token: string | undefined } {
  if (typeof value === "string") {
    const canonical = strings.intern(value);
    return { value: canonical, token: subtrees.token(canonical) };
  }
  if (value === null || typeof value !== "object") {
    return { value, token: JSON.stringify(value) };
  }
  if (Object.isFrozen(value)) return { value, token: undefined };
  let key: string | undefined;
  if (Array.isArray(value)) {
    const tokens: (string | undefined)[] = [];
    for (let i = 0; i < value.length; i++) {
      const part = internPart(value[i], strings, subtrees);
      value[i] = part.value;
      tokens.push(part.token);
    }
    if (!tokens.includes(undefined)) key = `[${tokens.join(",")}]`;
  } else {
    const record = value as Record<string, unknown>;
    const entries: string[] = [];
    let shareable = true;
    for (const name in record) {
      const child = record[name];
      if (typeof child === "string" && UNIQUE_KEYS.has(name)) {
        shareable = false;
        continue;
      }
      const part = internPart(child, strings, subtrees);
      record[name] = part.value;
      if (part.token === undefined) shareable = false;
      else if (shareable) entries.push(`${JSON.stringify(name)}:${part.token}`);
    }
    if (shareable) key = `{${entries.join(",")}}`;
  }
  if (key === undefined) return { value, token: undefined };
  const canonical = subtrees.canonical(key, value);
  return { value: canonical.value, token: `#${canonical.id}` };
}
