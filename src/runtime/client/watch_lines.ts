/**
 * Splits a watch stream into lines in linear time, with a cap on the length of one line.
 *
 * A watch sends one JSON event per line, and one event can be large (a big ConfigMap or Secret
 * arrives in many network chunks). Each byte is looked at once: a chunk without a newline is
 * kept aside, not joined to what came before and searched again, and the pieces of a line are
 * joined and decoded once, when its newline arrives. A line that outgrows the cap fails the
 * stream with a {@linkcode WatchLineTooLongError} rather than growing the heap without bound.
 *
 * @module
 */

/** The default cap on one watch line: 64 MiB, above any object etcd stores (1.5 MiB by default). */
export const DEFAULT_MAX_WATCH_LINE_BYTES = 64 * 1024 * 1024;

const NEWLINE = 0x0a;

/** A watch line grew past the cap before its newline came. */
export class WatchLineTooLongError extends Error {
  override name = "WatchLineTooLongError";
  constructor(readonly maxLineBytes: number) {
    super(
      `a watch event is longer than the limit of ${formatBytes(maxLineBytes)} ` +
        `(maxWatchLineBytes = ${maxLineBytes}); raise the limit or watch fewer fields`,
    );
  }
}

/**
 * @returns `maxLineBytes`, checked.
 * @throws {RangeError} unless it is undefined or a whole number >= 1.
 */
export function checkMaxLineBytes(maxLineBytes: number | undefined): number | undefined {
  if (maxLineBytes !== undefined && !(Number.isInteger(maxLineBytes) && maxLineBytes >= 1)) {
    throw new RangeError(`maxWatchLineBytes must be a whole number >= 1, got ${maxLineBytes}`);
  }
  return maxLineBytes;
}

/**
 * Cuts bytes into lines; push chunks as they arrive. Bytes after the last newline are kept
 * until their newline comes (a watch stream that ends mid-line was cut short).
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #decoder = new TextDecoder();
  /** Pieces of the line not yet ended, and their total length. */
  #parts: Uint8Array[] = [];
  #partLength = 0;
  #scannedBytes = 0;

  /**
   * @param maxLineBytes Longest line accepted, newline not counted. @default 64 MiB
   * @throws {RangeError} unless it is a whole number >= 1.
   */
  constructor(maxLineBytes?: number) {
    this.#maxLineBytes = checkMaxLineBytes(maxLineBytes) ?? DEFAULT_MAX_WATCH_LINE_BYTES;
  }

  /** Bytes searched for a newline so far; equals the bytes pushed, since none is searched twice. */
  get scannedBytes(): number {
    return this.#scannedBytes;
  }

  /**
   * Takes the next chunk of the stream.
   * @returns The lines this chunk completes, decoded as UTF-8, without their newline.
   * @throws {WatchLineTooLongError} when the line in progress passes the cap.
   */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline < 0 ? chunk.length : newline;
      this.#scannedBytes += (newline < 0 ? end : end + 1) - start;
      if (this.#partLength + (end - start) > this.#maxLineBytes) {
        this.#parts = [];
        this.#partLength = 0;
        throw new WatchLineTooLongError(this.#maxLineBytes);
      }
      if (newline < 0) {
        this.#parts.push(chunk.subarray(start));
        this.#partLength += end - start;
        break;
      }
      lines.push(this.#take(chunk.subarray(start, end)));
      start = end + 1;
    }
    return lines;
  }

  #take(last: Uint8Array): string {
    if (this.#parts.length === 0) return this.#decoder.decode(last);
    const bytes = new Uint8Array(this.#partLength + last.length);
    let offset = 0;
    for (const part of this.#parts) {
      bytes.set(part, offset);
      offset += part.length;
    }
    bytes.set(last, offset);
    this.#parts = [];
    this.#partLength = 0;
    return this.#decoder.decode(bytes);
  }
}

function formatBytes(bytes: number): string {
  const MiB = 1024 * 1024;
  if (bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
