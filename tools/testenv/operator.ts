/**
 * Runs the operator as a separate process against a control plane, exactly as
 * `deno task start` does: `deno run -P=operator main.ts`, i.e. the same permission set that
 * `deno task compile` bakes into the binary.
 *
 * @module
 */
import { freePorts } from "./waiting.ts";
import { ManagedProcess, onInterrupt } from "./process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** A running operator process. */
export interface OperatorProcess extends AsyncDisposable {
  process: ManagedProcess;
  healthPort: number;
  metricsPort: number;
  /** Resolves once `/readyz` answers 200 (caches synced). */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<Deno.CommandStatus>;
}

/** Where the operator runs: a cluster's kubeconfig, and a folder for its log. */
export interface OperatorTarget {
  kubeconfigPath: string;
  dir: string;
}

/**
 * Starts the operator against `plane` (a ControlPlane fits) with `args` added to the defaults;
 * `v8Flags` go to `deno run --v8-flags` (e.g. the heap limit a manifest sets).
 */
export async function startOperator(
  plane: OperatorTarget,
  args: string[] = [],
  name = "operator",
  echo = false,
  v8Flags: string[] = [],
): Promise<OperatorProcess> {
  const [healthPort = 0, metricsPort = 0] = await freePorts(2);
  const process = ManagedProcess.start({
    name,
    command: Deno.execPath(),
    args: [
      "run",
      `--config=${CONFIG}`,
      "-P=operator",
      ...(v8Flags.length > 0 ? [`--v8-flags=${v8Flags.join(",")}`] : []),
      MAIN,
      `--kubeconfig=${plane.kubeconfigPath}`,
      `--health-probe-bind-address=127.0.0.1:${healthPort}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      "--log-format=json",
      ...args,
    ],
    logDir: plane.dir,
    env: { NO_COLOR: "1" },
    echo,
  });
  return operatorHandle(process, healthPort, metricsPort);
}

/**
 * The handle of an operator process (ours or the benchmark peer): ready once `/readyz` on
 * `healthPort` answers, stopped on Ctrl-C before the control plane it talks to.
 */
export function operatorHandle(
  process: ManagedProcess,
  healthPort: number,
  metricsPort: number,
): OperatorProcess {
  const forgetInterrupt = onInterrupt(async () => {
    await process.stop(10_000);
  });
  const stop = () => {
    forgetInterrupt();
    return process.stop(10_000);
  };
  return {
    process,
    healthPort,
    metricsPort,
    ready: (timeoutMs = 60_000) => waitUntilReady(process, healthPort, timeoutMs),
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/**
 * Resolves once the operator's `/readyz` answers 200 (its caches have synced).
 * @throws {Error} with the end of its log if it exits or is not ready in time.
 */
export async function waitUntilReady(
  process: ManagedProcess,
  healthPort: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !process.exited) {
    try {
      const response = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const why = process.exited ? "exited" : "timed out";
  throw new Error(`Operator not ready (${why}):\n${process.tail(30)}`);
}
