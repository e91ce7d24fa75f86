/**
 * How log records render times and errors, as controller-runtime's zap encoders do: the six
 * `--zap-time-encoding` formats, and errors that keep their causes and, when asked, a stack.
 *
 * @module
 */

/** The values of controller-runtime's `--zap-time-encoding`. */
export const TIME_ENCODINGS = [
  "epoch",
  "millis",
  "nano",
  "iso8601",
  "rfc3339",
  "rfc3339nano",
] as const;

/** One of {@linkcode TIME_ENCODINGS}. */
export type TimeEncoding = typeof TIME_ENCODINGS[number];

/**
 * Renders a time as zap's encoder of that name does: `epoch` is seconds and `millis`
 * milliseconds since 1970 (fractional numbers), `nano` whole nanoseconds, `iso8601`
 * `2006-01-02T15:04:05.000Z`, `rfc3339` to the second and `rfc3339nano` without trailing zeros.
 * JavaScript clocks tick in milliseconds, so finer digits are zero.
 *
 * @param ms Milliseconds since 1970, as `Date.now()` returns.
 * @param encoding The format.
 * @returns A number for the epoch formats, a string otherwise.
 * @example Seconds since 1970
 * ```ts
 * import { encodeTime } from "./log_encoding.ts";
 * console.assert(encodeTime(1_500, "epoch") === 1.5);
 * console.assert(encodeTime(1_500, "rfc3339") === "1970-01-01T00:00:01Z");
 * ```
 */
export function encodeTime(ms: number, encoding: TimeEncoding): number | string {
  switch (encoding) {
    case "epoch":
      return ms / 1000;
    case "millis":
      return ms;
    case "nano":
      return ms * 1_000_000;
    case "iso8601":
      return new Date(ms).toISOString();
    case "rfc3339":
      return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
    case "rfc3339nano":
      return new Date(ms).toISOString().replace(/\.?0+Z$/, "Z");
  }
}

/**
 * The message of an error followed by those of its causes (`outer: inner: root`), as Go's
 * wrapped errors print; a cause whose message the outer one already contains is not repeated.
 *
 * @param error Anything thrown.
 * @returns One line of text.
 */
export function errorText(error: unknown): string {
  let text = error instanceof Error ? error.message : String(error);
  const seen = new Set<unknown>([error]);
  let cause = error instanceof Error ? error.cause : undefined;
  while (cause !== undefined && !seen.has(cause)) {
    seen.add(cause);
    const message = cause instanceof Error ? cause.message : String(cause);
    if (message && !text.includes(message)) text += `: ${message}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}

/**
 * The stack of an error and of each of its causes (`Caused by: …`), or, with no error, the
 * stack of the caller: what zap's `stacktrace` field holds.
 *
 * @param error The error being logged, if any.
 * @returns Several lines of text.
 */
export function stackText(error?: unknown): string {
  if (!(error instanceof Error)) {
    const lines = (new Error().stack ?? "").split("\n").slice(1);
    // Drop the logger's own frames so the first line is the code that logged.
    const first = lines.findIndex((line) => !/\/(logger|log_encoding)\.ts:/.test(line));
    return lines.slice(Math.max(0, first)).map((line) => line.trim()).join("\n");
  }
  const parts = [error.stack ?? `${error.name}: ${error.message}`];
  const seen = new Set<unknown>([error]);
  let cause = error.cause;
  while (cause !== undefined && !seen.has(cause)) {
    seen.add(cause);
    parts.push(`Caused by: ${cause instanceof Error ? cause.stack ?? cause.message : cause}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join("\n");
}
