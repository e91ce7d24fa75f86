/**
 * Structured logs on stderr in the shape controller-runtime's zap logger writes them: JSON
 * lines (`level`, `ts`, `msg`, fields, `stacktrace`) for log collectors, or zap's console
 * layout (tab-separated, fields as JSON) for people. Levels follow zap: `debug` is -1, `info` 0,
 * `warn` 1, `error` 2, and verbosity `V(n)` is level `-n`, so `--zap-log-level=2` shows
 * `debug` lines too.
 *
 * @module
 */
import { encodeTime, errorText, stackText, type TimeEncoding } from "./log_encoding.ts";

/** The levels this logger writes, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** zap's number for each level name controller-runtime's flags accept (and `warn`). */
export const LEVEL_VALUES = { debug: -1, info: 0, warn: 1, error: 2, panic: 4 } as const;

/** A level name, or a zap level number (`-n` enables verbosity `V(n)`). */
export type Level = keyof typeof LEVEL_VALUES | number;

/** Key-value context attached to log lines. Never put secret data here. */
export type Fields = Record<string, unknown>;

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  /** Least severe level written. @default "info" */
  level?: Level;
  /** `json`, or zap's `console` layout (`text` is an alias). @default JSON unless stderr is a terminal */
  format?: "json" | "console" | "text";
  /** Lines at this level and above carry a `stacktrace`. @default "error" */
  stacktraceLevel?: Level;
  /** How `ts` is written. @default "rfc3339" (controller-runtime's default) */
  timeEncoding?: TimeEncoding;
  /** Where lines go. @default stderr */
  write?: (line: string) => void;
}

interface Settings {
  min: number;
  stackMin: number;
  console: boolean;
  timeEncoding: TimeEncoding;
  write: (line: string) => void;
}

/** A logger with fixed context fields; `child()` adds more. */
export class Logger {
  #settings: Settings;
  readonly #fields: Fields;

  constructor(options: LoggerOptions = {}, fields: Fields = {}) {
    const encoder = new TextEncoder();
    const format = options.format ?? (Deno.stderr.isTerminal() ? "console" : "json");
    this.#settings = {
      min: levelValue(options.level ?? "info"),
      stackMin: levelValue(options.stacktraceLevel ?? "error"),
      console: format !== "json",
      timeEncoding: options.timeEncoding ?? "rfc3339",
      write: options.write ?? ((line) => Deno.stderr.writeSync(encoder.encode(line + "\n"))),
    };
    this.#fields = fields;
  }

  /** A logger that adds `fields` to every line. */
  child(fields: Fields): Logger {
    // A format is given only to skip the terminal check; the parent's settings replace it.
    const child = new Logger({ format: "json", write: this.#settings.write }, {
      ...this.#fields,
      ...fields,
    });
    child.#settings = this.#settings;
    return child;
  }

  /** True when lines at `level` are written, to skip building costly fields. */
  enabled(level: Level): boolean {
    return levelValue(level) >= this.#settings.min;
  }

  debug(message: string, fields?: Fields): void {
    this.#log("debug", message, fields);
  }
  info(message: string, fields?: Fields): void {
    this.#log("info", message, fields);
  }
  warn(message: string, fields?: Fields): void {
    this.#log("warn", message, fields);
  }
  error(message: string, fields?: Fields): void {
    this.#log("error", message, fields);
  }

  #log(level: LogLevel, message: string, fields?: Fields): void {
    const value = LEVEL_VALUES[level];
    const settings = this.#settings;
    if (value < settings.min) return;
    const all: Fields = { ...this.#fields, ...fields };
    let error: Error | undefined;
    for (const [key, v] of Object.entries(all)) {
      if (v instanceof Error) {
        error ??= v;
        all[key] = errorText(v);
      }
    }
    const ts = encodeTime(Date.now(), settings.timeEncoding);
    const stacktrace = value >= settings.stackMin ? stackText(error) : undefined;
    if (!settings.console) {
      const record = { level, ts, msg: message, ...all, ...(stacktrace ? { stacktrace } : {}) };
      settings.write(JSON.stringify(record));
      return;
    }
    const parts = [String(ts), level.toUpperCase(), message];
    if (Object.keys(all).length > 0) parts.push(JSON.stringify(all));
    settings.write(parts.join("\t") + (stacktrace ? `\n${stacktrace}` : ""));
  }
}

function levelValue(level: Level): number {
  return typeof level === "number" ? level : LEVEL_VALUES[level];
}
