/**
 * Structured logs on stderr: JSON lines (for log collectors, the default in a cluster) or
 * readable text (the default on a terminal), with levels as in controller-runtime's zap flags.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Key-value context attached to log lines. Never put secret data here. */
export type Fields = Record<string, unknown>;

/** Options for {@linkcode Logger}. */
export interface LoggerOptions {
  /** @default "info" */
  level?: LogLevel;
  /** @default JSON unless stderr is a terminal */
  format?: "json" | "text";
  /** Where lines go. @default stderr */
  write?: (line: string) => void;
}

/** A logger with fixed context fields; `child()` adds more. */
export class Logger {
  readonly #level: LogLevel;
  readonly #min: number;
  readonly #format: "json" | "text";
  readonly #write: (line: string) => void;
  readonly #fields: Fields;

  constructor(options: LoggerOptions = {}, fields: Fields = {}) {
    this.#level = options.level ?? "info";
    this.#min = SEVERITY[this.#level];
    this.#format = options.format ?? (Deno.stderr.isTerminal() ? "text" : "json");
    const encoder = new TextEncoder();
    this.#write = options.write ?? ((line) => Deno.stderr.writeSync(encoder.encode(line + "\n")));
    this.#fields = fields;
  }

  /** A logger that adds `fields` to every line. */
  child(fields: Fields): Logger {
    return new Logger(
      { level: this.#level, format: this.#format, write: this.#write },
      { ...this.#fields, ...fields },
    );
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
    if (SEVERITY[level] < this.#min) return;
    const all = { ...this.#fields, ...fields };
    for (const [key, value] of Object.entries(all)) {
      if (value instanceof Error) all[key] = value.message;
    }
    const ts = new Date().toISOString();
    if (this.#format === "json") {
      this.#write(JSON.stringify({ ts, level, msg: message, ...all }));
    } else {
      const extra = Object.entries(all).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
      this.#write(`${ts} ${level.toUpperCase().padEnd(5)} ${message}${extra ? " " + extra : ""}`);
    }
  }
}
