/**
 * The cluster flags `deno task cluster` and `deno task dev` share: `--real-nodes N` (1 to 3;
 * `--real-node` is `--real-nodes 1`) and `--object-store`. A leading `--` (which `deno task`
 * passes through) is skipped.
 *
 * @example
 * ```ts
 * parseClusterArgs(["--real-nodes", "2", "--object-store", "--log-level=debug"]);
 * // { realNodes: 2, objectStore: true, rest: ["--log-level=debug"] }
 * ```
 *
 * @module
 */
import { MAX_REAL_NODES } from "./testenv/mod.ts";
import { taskArgv } from "./task_args.ts";

/** What the flags ask for, and the arguments that are not cluster flags. */
export interface ClusterArgs {
  realNodes: number;
  objectStore: boolean;
  rest: string[];
}

/** Parses the cluster flags. @throws {Error} with a one-line message for a bad value. */
export function parseClusterArgs(args: string[]): ClusterArgs {
  const out: ClusterArgs = { realNodes: 0, objectStore: false, rest: [] };
  const given = taskArgv(args);
  for (let i = 0; i < given.length; i++) {
    const arg = given[i]!;
    if (arg === "--real-node") out.realNodes = Math.max(out.realNodes, 1);
    else if (arg === "--object-store") out.objectStore = true;
    else if (arg === "--real-nodes" || arg.startsWith("--real-nodes=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : given[++i];
      const count = Number(value);
      if (!Number.isInteger(count) || count < 1 || count > MAX_REAL_NODES) {
        throw new Error(`--real-nodes takes 1 to ${MAX_REAL_NODES}, not ${value ?? "nothing"}`);
      }
      out.realNodes = count;
    } else out.rest.push(arg);
  }
  if (out.objectStore && out.realNodes === 0) {
    throw new Error("--object-store needs real nodes: add --real-nodes N");
  }
  return out;
}
