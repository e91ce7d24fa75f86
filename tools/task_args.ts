/**
 * The arguments of a `deno task`: the options a task takes, its `--help`, and the leading `--`
 * that `deno task name -- args` passes through (Deno 2.9 does). Every task that takes options
 * reads them here, so `--help` prints the same kind of usage everywhere and a wrong argument
 * exits 2 with one line naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const spec = {
 *   task: "bench:floor",
 *   summary: "the load test's floor",
 *   options: { count: { type: "string", default: "50", help: "Databases" } },
 * } as const;
 * assert.deepEqual(readTaskArgs(spec, ["--", "--count", "9"]), { values: { count: "9" } });
 * assert.equal(readTaskArgs(spec, ["--help"]), "help");
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

/** One option: its type, default, one-letter alias and what it is for. */
export interface TaskOption {
  type: "string" | "boolean";
  default?: string | boolean;
  short?: string;
  /** What it sets; `value` names the value in the usage (`--count N`). */
  help: string;
  value?: string;
}

/** A task's name, what it does and its options. */
export interface TaskSpec {
  task: string;
  summary: string;
  options: Record<string, TaskOption>;
}

/** The values read: strings and booleans by option name. */
export type TaskValues = Record<string, string | boolean | undefined>;

/** The values of `S`'s options: a boolean for a flag, a string (if given or defaulted). */
export type ValuesOf<S extends TaskSpec> = {
  [K in keyof S["options"]]: S["options"][K]["type"] extends "boolean" ? boolean
    : S["options"][K]["default"] extends string ? string
    : string | undefined;
};

/** The usage `--help` prints. */
export function taskUsage(spec: TaskSpec): string {
  const lines = [
    `usage: deno task ${spec.task}${Object.keys(spec.options).length ? " [options]" : ""}`,
    `  ${spec.summary}`,
  ];
  for (const [name, option] of Object.entries(spec.options)) {
    const value = option.type === "string" ? ` ${option.value ?? "VALUE"}` : "";
    const fallback = option.default !== undefined && option.default !== false
      ? ` (default ${option.default})`
      : "";
    lines.push(`  --${name}${value}  ${option.help}${fallback}`);
  }
  lines.push("  --help  this text");
  return lines.join("\n");
}

/** A task's arguments without the leading `--` that `deno task name -- args` passes through. */
export function taskArgv(args: string[]): string[] {
  return args[0] === "--" ? args.slice(1) : args;
}

/** Whether `--help` or `-h` is among a task's arguments. */
export function helpAsked(args: string[]): boolean {
  const given = taskArgv(args);
  return given.includes("--help") || given.includes("-h");
}

/**
 * Reads `args`: "help" when `--help` or `-h` is among them, else the values.
 * @throws {Error} naming the argument it cannot use.
 */
export function readTaskArgs(spec: TaskSpec, args: string[]): "help" | { values: TaskValues } {
  const given = taskArgv(args);
  if (helpAsked(given)) return "help";
  const options: Record<string, { type: "string" | "boolean"; default?: string | boolean }> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    options[name] = {
      type: option.type,
      ...(option.default !== undefined ? { default: option.default } : {}),
      ...(option.short ? { short: option.short } : {}),
    };
  }
  try {
    const { values } = parseArgs({ args: given, options, strict: true, allowPositionals: false });
    return { values: { ...values } as TaskValues };
  } catch (error) {
    // node:util's messages say "Unknown option '--x'", "Unexpected argument 'x'" and the like.
    throw new Error((error as Error).message.split(". ")[0]!);
  }
}

/** {@linkcode readTaskArgs} for `Deno.args`: prints the usage and exits 0 or 2 as it says. */
export function taskArgs<const S extends TaskSpec>(
  spec: S,
  args: string[] = Deno.args,
): ValuesOf<S> {
  let read: ReturnType<typeof readTaskArgs>;
  try {
    read = readTaskArgs(spec, args);
  } catch (error) {
    console.error(`deno task ${spec.task}: ${(error as Error).message}\n${taskUsage(spec)}`);
    Deno.exit(2);
  }
  if (read === "help") {
    console.log(taskUsage(spec));
    Deno.exit(0);
  }
  return read.values as ValuesOf<S>;
}
