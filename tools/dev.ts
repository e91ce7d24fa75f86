/**
 * `deno task dev [--real-nodes N] [--object-store] [operator flags]`: the one-command demo.
 * Starts the local `cluster` control plane, applies the samples, and runs the operator (as
 * `deno task start` does) until Ctrl-C, so the sample Databases become Ready: on a KWOK node,
 * or with `--real-nodes N` (`--real-node` is 1) as real PostgreSQL pods on N real nodes you can
 * `kubectl exec` into, log in to and break with `deno task node`.
 *
 * @module
 */
import { parseClusterArgs } from "./cluster_args.ts";
import { helpAsked } from "./task_args.ts";
import { printObjectStore } from "./cluster.ts";
import { ControlPlane, startOperator } from "./testenv/mod.ts";

const USAGE = "usage: deno task dev [--real-nodes 1-3 | --real-node] [--object-store] " +
  "[operator flags]\n  the one-command demo: a local cluster, the samples and the operator " +
  "(its flags: deno task start --help); Ctrl-C stops everything";

if (import.meta.main) {
  if (helpAsked(Deno.args)) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let flags;
  try {
    flags = parseClusterArgs(Deno.args);
  } catch (error) {
    console.error(`deno task dev: ${(error as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  const plane = await ControlPlane.start({
    mode: "cluster",
    realNodes: flags.realNodes,
    objectStore: flags.objectStore,
    images: ["postgres:17", "postgres:15", "postgresql:17", "operator"],
  });
  console.log(`KUBECONFIG=${plane.kubeconfigPath}`);
  const applied = await plane.kubectl([
    "apply",
    "-k",
    new URL("../manifests/samples", import.meta.url).pathname,
  ]);
  if (applied.code !== 0) throw new Error(`Applying the samples failed: ${applied.stderr}`);
  console.log(applied.stdout.trim());
  if (flags.objectStore) printObjectStore(plane);
  const operator = await startOperator(plane, flags.rest, "operator", true);
  await operator.ready();
  console.log("Operator running. In another shell:");
  console.log(`  kubectl --kubeconfig ${plane.kubeconfigPath} get databases -w`);
  if (flags.realNodes > 0) {
    console.log(
      `  kubectl --kubeconfig ${plane.kubeconfigPath} exec -it valid-db-0 -- ` +
        "psql -U admin mydb",
    );
    console.log(`  KUBECONFIG=${plane.kubeconfigPath} deno task node list`);
  }
  console.log("Press Ctrl-C to stop everything.");
  operator.process.status.then((status) => {
    if (status.signal) return; // Stopped by Ctrl-C.
    console.error(`The operator exited (code ${status.code}); Ctrl-C stops the cluster.`);
  });
  // Ctrl-C stops the operator, then the control plane (see testenv/process.ts).
  await new Promise(() => {});
}
