/**
 * Running the short-lived system commands the harness needs (`ip`, `nsenter`, `ctr`, `crictl`,
 * `mmdebstrap`, `tar`…), with their output in the error when they fail.
 *
 * @module
 */

/** A system command failed; `output` holds what it printed. */
export class CommandError extends Error {
  override name = "CommandError";
  constructor(readonly command: string, readonly code: number, readonly output: string) {
    super(`${command} failed (exit ${code}): ${output.trim() || "no output"}`);
  }
}

/** Options for {@linkcode sh}. */
export interface RunOptions {
  /** Data written to the command's standard input. */
  stdin?: string;
  /** Resolve with the result instead of throwing when the command fails. @default false */
  allowFailure?: boolean;
  cwd?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

/** What a command printed and how it ended. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` with `args` and waits for it.
 * @throws {CommandError} when it exits non-zero and `allowFailure` is not set.
 */
export async function sh(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const child = new Deno.Command(command, {
    args,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env } : {}),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const result = {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
  if (result.code !== 0 && !options.allowFailure) {
    throw new CommandError(
      [command, ...args].join(" "),
      result.code,
      result.stderr || result.stdout,
    );
  }
  return result;
}
