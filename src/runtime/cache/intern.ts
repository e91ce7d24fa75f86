/**
 * One shared copy of each repeated string in cached objects. `JSON.parse` makes a fresh string
 * for every value, so ten thousand cached objects hold ten thousand copies of the same
 * namespace, label values, image and, in pod templates, scripts kilobytes long. Property names
 * need nothing: V8 already keeps one copy of each.
 *
 * Guarantees:
 * - Bounded: the table holds at most `2 × capacity` strings. It has two generations; a string
 *   seen again while in the older one moves to the newer one, and the older one is dropped
 *   whole when the newer one fills up. Strings every object repeats stay; strings seen once
 *   (UIDs, passwords) pass through and age out.
 * - An interned string is equal to the original, so interning never changes a value.
 *
 * @module
 */

/** A bounded table of canonical strings; see the module documentation. */
export class StringTable {
  #current = new Map<string, string>();
  #previous = new Map<string, string>();

  /** @param capacity strings per generation. @default 16_384 */
  constructor(readonly capacity = 16_384) {}

  /** Whether the table holds a copy of `value`. */
  has(value: string): boolean {
    return this.#current.has(value) || this.#previous.has(value);
  }

  /** The canonical copy of `value`. */
  intern(value: string): string {
    const current = this.#current.get(value);
    if (current !== undefined) return current;
    const canonical = this.#previous.get(value) ?? value;
    if (this.#current.size >= this.capacity) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(canonical, canonical);
    return canonical;
  }
}

/** Keys whose values differ in every object and every version: never worth a table entry. */
const UNIQUE_KEYS = new Set(["uid", "resourceVersion"]);

/** The table shared by every cache, so objects of different types share strings too. */
export const CACHE_STRINGS: StringTable = new StringTable();

/**
 * Replaces, in place, every string in `value` (objects and arrays, recursively) by its
 * canonical copy from `table`; returns `value`. Only for objects nobody else holds yet, such
 * as one just parsed from the API; frozen parts are left as they are.
 */
export function internStrings<T>(value: T, table: StringTable = CACHE_STRINGS): T {
  // A frozen object is already cached (and interned) as it is.
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === "string") value[i] = table.intern(item);
      else internStrings(item, table);
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const child = record[key];
    if (typeof child === "string") {
      if (!UNIQUE_KEYS.has(key)) record[key] = table.intern(child);
    } else internStrings(child, table);
  }
  return value;
}
