/**
 * Runs the benchmark peer (`tools/controlplane/peer`, a minimal controller-runtime Database
 * operator) as a separate process, with the same handle as our operator's
 * ({@linkcode OperatorProcess}), so one benchmark drives either.
 *
 * @module
 */
import { join } from "node:path";
import { SYNC_CREDENTIALS_SCRIPT } from "../../src/database/credentials/sync_credentials.ts";
import { binaryPath } from "./binaries.ts";
import { operatorHandle, type OperatorProcess, type OperatorTarget } from "./operator.ts";
import { ManagedProcess } from "./process.ts";
import { freePorts } from "./waiting.ts";

/**
 * Starts the peer against `plane` with `args` added (`--max-concurrent-reconciles=N`, …);
 * builds it first if it is not cached. Its init containers run our credentials-sync script, so
 * its pods are the same size as ours.
 */
export async function startPeerOperator(
  plane: OperatorTarget,
  args: string[] = [],
  name = "peer",
): Promise<OperatorProcess> {
  const command = await binaryPath("postgres-operator-peer");
  const [healthPort = 0, metricsPort = 0] = await freePorts(2);
  const initScript = join(plane.dir, "peer-init-script.sh");
  await Deno.writeTextFile(initScript, SYNC_CREDENTIALS_SCRIPT);
  const process = ManagedProcess.start({
    name,
    command,
    args: [
      `--kubeconfig=${plane.kubeconfigPath}`,
      `--health-probe-bind-address=127.0.0.1:${healthPort}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--init-script=${initScript}`,
      ...args,
    ],
    logDir: plane.dir,
  });
  return operatorHandle(process, healthPort, metricsPort);
}
