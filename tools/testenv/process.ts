/**
 * Child processes that write their output to a log file and are always stopped: by their owner,
 * or, if the owner forgets or fails, when this process exits or receives SIGINT/SIGTERM.
 *
 * @module
 */

const live = new Set<ManagedProcess>();
const cleanups = new Set<() => Promise<void>>();
let hooksInstalled = false;

/**
 * Runs `cleanup` if this process is interrupted (SIGINT/SIGTERM) before the returned function
 * is called; cleanups run newest first, then any process still alive is stopped.
 */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  installExitHooks();
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Options for {@linkcode ManagedProcess.start}. */
export interface StartOptions {
  /** Short name used in the log file name and messages. */
  name: string;
  command: string;
  args: string[];
  /** Folder for `<name>.log`. */
  logDir: string;
  /** Also copy the output to this process's stderr. @default false */
  echo?: boolean;
  env?: Record<string, string>;
  cwd?: string;
}

/** A running child process with its combined output in `<logDir>/<name>.log`. */
export class ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  readonly #child: Deno.ChildProcess;
  readonly #log: Deno.FsFile;
  readonly #pumps: Promise<void>;
  #stopping?: Promise<Deno.CommandStatus>;
  #exited = false;

  private constructor(options: StartOptions) {
    this.name = options.name;
    this.logPath = `${options.logDir}/${options.name}.log`;
    this.#log = Deno.openSync(this.logPath, { create: true, append: true });
    this.#child = new Deno.Command(options.command, {
      args: options.args,
      env: options.env,
      cwd: options.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = this.#log;
    const echo = options.echo ?? false;
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) {
        await writer.write(chunk).catch(() => {});
        if (echo) await Deno.stderr.write(chunk).catch(() => 0);
      }
    };
    this.#child.status.then(() => (this.#exited = true));
    this.#pumps = Promise.all([pump(this.#child.stdout), pump(this.#child.stderr)]).then(() => {});
  }

  /** Starts a process; it is stopped on exit of this process if its owner does not stop it. */
  static start(options: StartOptions): ManagedProcess {
    installExitHooks();
    const process = new ManagedProcess(options);
    live.add(process);
    return process;
  }

  /** The operating system's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Resolves when the process exits by itself or is stopped. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#child.status;
  }

  /** True once the process has ended. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Sends a signal without waiting (e.g. SIGKILL to simulate a crash). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch {
      // Already exited.
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process and its log are closed. */
  stop(graceMs = 5_000): Promise<Deno.CommandStatus> {
    this.#stopping ??= (async () => {
      this.kill("SIGTERM");
      const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
      const status = await this.#child.status;
      clearTimeout(timer);
      await this.#pumps;
      this.#log.close();
      live.delete(this);
      return status;
    })();
    return this.#stopping;
  }

  /** The last `lines` lines of the log, for error messages. */
  tail(lines = 20): string {
    try {
      return Deno.readTextFileSync(this.logPath).split("\n").slice(-lines - 1).join("\n");
    } catch {
      return "";
    }
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  globalThis.addEventListener("unload", () => {
    for (const process of live) process.kill("SIGKILL");
  });
  let interruptedAt = 0;
  const onSignal = async () => {
    if (interruptedAt > 0) {
      // Asked again by a person (not the same signal delivered twice, as `deno task` and a
      // terminal's process group can do within milliseconds): stop waiting.
      if (Date.now() - interruptedAt > 1_000) Deno.exit(130);
      return;
    }
    interruptedAt = Date.now();
    for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => {});
    for (const process of [...live].reverse()) await process.stop();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
}
