/**
 * `deno task loadtest`'s command line: its flags, `--help`, and a leading `--` (which
 * `deno task loadtest -- …` passes through).
 *
 * @example
 * ```ts
 * parseLoadtestArgs(["--", "--count", "50"]).count; // 50
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { taskArgv } from "../task_args.ts";

/** What one load test run does. */
export interface LoadtestOptions {
  count: number;
  namespace: string;
  concurrency: number;
  keep: boolean;
  kubeconfig?: string;
  /** Flags passed to the operator (`--max-concurrent-reconciles`, `--kube-api-qps`, …). */
  operatorArgs: string[];
  steadySeconds: number;
  restart: boolean;
  timeoutSeconds: number;
  /**
   * Give the Databases environments in turn (production, staging, development) and report
   * create→Ready latency for production and for the rest. @default false
   */
  mixEnvironments?: boolean;
  /** Also write the report to this file (the command line's `--json`). */
  json?: string;
}

/** The help text. */
export const LOADTEST_USAGE = `usage: deno task loadtest [--] [flags]
  --count N                      Databases to create (default 50)
  --namespace NAME               where (default loadtest-<time>; deleted after unless --keep)
  --concurrency N                creations in flight (default 50)
  --keep                         keep the namespace and its Databases
  --kubeconfig PATH              an existing cluster (default: start a cluster-mode control plane)
  --max-concurrent-reconciles N  passed to the operator
  --kube-api-qps N               passed to the operator (0: no client-side limit)
  --kube-api-burst N             passed to the operator
  --steady-seconds N             quiet period measured after all are Ready (default 60)
  --no-restart                   skip the restart over converged Databases
  --timeout SECONDS              give up on stragglers after this (default 900)
  --json PATH                    also write the report here
  --mix-environments             production/staging/development in turn; p50 per group
  --help                         this text`;

const INTEGERS = ["count", "concurrency", "steady-seconds", "timeout"] as const;

/**
 * Parses the flags; `"help"` for `--help`.
 * @throws {Error} with one line naming the flag, for an unknown flag or a bad number.
 */
export function parseLoadtestArgs(argv: string[]): LoadtestOptions | "help" {
  const { values } = parseArgs({
    args: taskArgv(argv),
    strict: true,
    options: {
      "help": { type: "boolean", short: "h", default: false },
      "count": { type: "string", default: "50" },
      "namespace": { type: "string" },
      "concurrency": { type: "string", default: "50" },
      "keep": { type: "boolean", default: false },
      "kubeconfig": { type: "string" },
      "max-concurrent-reconciles": { type: "string" },
      "kube-api-qps": { type: "string" },
      "kube-api-burst": { type: "string" },
      "steady-seconds": { type: "string", default: "60" },
      "no-restart": { type: "boolean", default: false },
      "timeout": { type: "string", default: "900" },
      "json": { type: "string" },
      "mix-environments": { type: "boolean", default: false },
    },
  });
  if (values.help) return "help";
  for (const flag of INTEGERS) {
    const n = Number(values[flag]);
    if (!Number.isInteger(n) || n < (flag === "count" ? 1 : 0)) {
      throw new Error(`--${flag} takes a whole number, not "${values[flag]}"`);
    }
  }
  const passThrough = (["max-concurrent-reconciles", "kube-api-qps", "kube-api-burst"] as const)
    .filter((f) => values[f] !== undefined)
    .map((f) => `--${f}=${values[f]}`);
  return {
    count: Number(values.count),
    namespace: values.namespace ?? `loadtest-${Date.now().toString(36)}`,
    concurrency: Number(values.concurrency),
    keep: values.keep,
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    operatorArgs: passThrough,
    steadySeconds: Number(values["steady-seconds"]),
    restart: !values["no-restart"],
    timeoutSeconds: Number(values.timeout),
    mixEnvironments: values["mix-environments"],
    ...(values.json ? { json: values.json } : {}),
  };
}
