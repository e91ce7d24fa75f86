/**
 * A small, pure parser for Kubernetes quantities (`10Gi`, `500m`, `1e9`), enough to compare
 * sizes the way the CRD's CEL rules do (`quantity(a).compareTo(quantity(b))`).
 *
 * @module
 */

/** Thrown by {@linkcode parseQuantity} for text that is not a Kubernetes quantity. */
export class QuantityParseError extends Error {
  /** The text that failed to parse. */
  readonly input: string;

  /**
   * @param input The text that failed to parse.
   * @param options Standard error options.
   */
  constructor(input: string, options?: ErrorOptions) {
    super(`Invalid quantity ${JSON.stringify(input)}`, options);
    this.name = "QuantityParseError";
    this.input = input;
  }
}

/**
 * The syntax of `resource.ParseQuantity`: an optional sign, a decimal number, then a binary
 * suffix (Ki…Ei), a decimal suffix (n u m k M G T P E) or a decimal exponent (e3, E-2).
 */
const QUANTITY =
  /^([+-]?)([0-9]+(?:[.][0-9]*)?|[.][0-9]+)(?:([KMGTPE]i)|([numkMGTPE])|[eE]([-+]?[0-9]+))?$/;

const NANO = 1e-9;
const BINARY_EXPONENT: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_EXPONENT: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

/**
 * Parses a Kubernetes quantity into a number of base units (bytes for sizes, cores for CPU).
 *
 * The result is a double, so it is exact for whole byte counts up to 2^53 (8 PiB) and otherwise
 * correctly rounded; values too large for a double become `Infinity`. Like the API server, a
 * value that is not zero but smaller than 1n counts as 1n, so its sign is never lost.
 *
 * @param text The quantity, such as `"10Gi"`, `"500m"`, `"1.5G"` or `"1e3"`.
 * @returns The value in base units.
 * @throws {QuantityParseError} when `text` is not a quantity.
 *
 * @example Binary, decimal and exponent forms
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseQuantity("10Gi"), 10 * 2 ** 30);
 * assert.equal(parseQuantity("500m"), 0.5);
 * assert.equal(parseQuantity("1e3"), 1000);
 * assert.throws(() => parseQuantity("ten gigs"), QuantityParseError);
 * ```
 */
export function parseQuantity(text: string): number {
  const match = typeof text === "string" ? QUANTITY.exec(text) : null;
  if (!match) throw new QuantityParseError(String(text));
  const [, sign = "", digits = "", binary, decimal, exponent] = match;
  const negative = sign === "-";
  let value: number;
  if (binary !== undefined) {
    // Scaling by a power of two is exact.
    value = Number(digits) * 2 ** BINARY_EXPONENT[binary]!;
  } else {
    // Let the number parser apply the power of ten, so "0.1k" is exactly 100.
    const power = decimal !== undefined ? DECIMAL_EXPONENT[decimal]! : Number(exponent ?? 0);
    value = Number(`${digits}e${power}`);
  }
  if (value < NANO && /[1-9]/.test(digits)) value = NANO;
  return negative && value !== 0 ? -value : value;
}

/**
 * Whether `text` is a Kubernetes quantity, like CEL's `isQuantity`.
 *
 * @param text Any value.
 * @returns `true` when {@linkcode parseQuantity} accepts it.
 *
 * @example Checking before parsing
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(isQuantity("10Gi"), true);
 * assert.equal(isQuantity("10 GB"), false);
 * ```
 */
export function isQuantity(text: unknown): text is string {
  return typeof text === "string" && QUANTITY.test(text);
}

/**
 * Compares two quantities like CEL's `quantity(a).compareTo(quantity(b))`.
 *
 * @param a A quantity.
 * @param b A quantity.
 * @returns A negative number if `a < b`, zero if equal, positive if `a > b`.
 * @throws {QuantityParseError} when either is not a quantity.
 *
 * @example Storage may grow
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.ok(compareQuantities("20Gi", "10Gi") > 0);
 * assert.equal(compareQuantities("1Gi", "1024Mi"), 0);
 * ```
 */
export function compareQuantities(a: string, b: string): number {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Whether two values from an object mean the same quantity: spellings of one value (`1Gi` and
 * `1024Mi`), or an integer and its text (`cpu: 2` in a spec, `"2"` from the server): the
 * scalar equality the reconciler's cache comparison uses.
 *
 * @param desired A value the operator would set.
 * @param live The value the server holds.
 * @returns `true` only when both are quantities of equal value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(sameQuantity(2, "2"), true);
 * assert.equal(sameQuantity("1Gi", "1024Mi"), true);
 * assert.equal(sameQuantity("postgres", "postgres"), false);
 * ```
 */
export function sameQuantity(desired: unknown, live: unknown): boolean {
  const text = (v: unknown) => (typeof v === "number" && Number.isInteger(v) ? String(v) : v);
  const [d, l] = [text(desired), text(live)];
  return isQuantity(d) && isQuantity(l) && compareQuantities(d, l) === 0;
}
