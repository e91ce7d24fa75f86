/**
 * `deno task node fail|partition|restore NODE` and `deno task node list`: faults on demand for
 * the running local cluster that `KUBECONFIG` points at (`deno task cluster --real-nodes N`
 * prints it), through its switchboard (`testenv/node/node_control.ts`).
 *
 * - `fail NODE`: every process of the node (kubelet, containerd, shims, containers) is killed
 *   at once and its link goes down; its disk stays.
 * - `partition NODE`: its link is cut; its processes keep running.
 * - `restore NODE`: the link comes back and, after `fail`, its processes over the same disk.
 * - `list`: each node's name, state, readiness and pods.
 *
 * Each prints one line; exit code 2 for an unknown node, operation or a cluster that is not
 * running, 1 when the operation itself failed.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { NodeRequestError, requestNodeControl } from "./testenv/mod.ts";

const USAGE = "usage: deno task node fail|partition|restore NODE | deno task node list";

/** Runs one command line; resolves with the exit code after printing one line. */
export async function nodeCommand(args: string[], env = Deno.env.toObject()): Promise<number> {
  const [op, node, ...extra] = args[0] === "--" ? args.slice(1) : args;
  const say = (line: string, code: number) => {
    (code === 0 ? console.log : console.error)(line);
    return code;
  };
  if (op === "--help" || op === "-h") return say(USAGE, 0);
  const needsNode = op === "fail" || op === "partition" || op === "restore";
  if (!(needsNode || op === "list") || (needsNode ? !node || extra.length : node)) {
    return say(`deno task node: ${USAGE}`, 2);
  }
  const kubeconfig = env.KUBECONFIG?.split(":")[0];
  if (!kubeconfig) {
    return say("deno task node: KUBECONFIG is not set (deno task cluster prints it)", 2);
  }
  try {
    const answer = await requestNodeControl(dirname(resolve(kubeconfig)), {
      op,
      ...(node ? { node } : {}),
    });
    return answer.ok ? say(answer.line, 0) : say(`deno task node: ${answer.error}`, answer.code);
  } catch (error) {
    const code = error instanceof NodeRequestError ? error.code : 1;
    return say(`deno task node: ${(error as Error).message}`, code);
  }
}

if (import.meta.main) Deno.exit(await nodeCommand(Deno.args));
