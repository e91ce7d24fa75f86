/**
 * `deno task dev [--real-node] [operator flags]`: the one-command demo. Starts the local
 * `cluster` control plane, applies the samples, and runs the operator (as `deno task start`
 * does) until Ctrl-C, so the sample Databases become Ready: on a KWOK node, or with
 * `--real-node` as real PostgreSQL pods you can `kubectl exec` into and log in to.
 *
 * @module
 */
import { ControlPlane, startOperator } from "./testenv/mod.ts";

if (import.meta.main) {
  const realNode = Deno.args.includes("--real-node");
  const operatorArgs = Deno.args.filter((arg) => arg !== "--real-node");
  const plane = await ControlPlane.start({
    mode: "cluster",
    realNode,
    images: ["postgres:17", "postgres:15", "operator"],
  });
  console.log(`KUBECONFIG=${plane.kubeconfigPath}`);
  const applied = await plane.kubectl([
    "apply",
    "-k",
    new URL("../manifests/samples", import.meta.url).pathname,
  ]);
  if (applied.code !== 0) throw new Error(`Applying the samples failed: ${applied.stderr}`);
  console.log(applied.stdout.trim());
  const operator = await startOperator(plane, operatorArgs, "operator", true);
  await operator.ready();
  console.log("Operator running. In another shell:");
  console.log(`  kubectl --kubeconfig ${plane.kubeconfigPath} get databases -w`);
  if (realNode) {
    console.log(
      `  kubectl --kubeconfig ${plane.kubeconfigPath} exec -it valid-db-0 -- ` +
        "psql -U admin mydb",
    );
  }
  console.log("Press Ctrl-C to stop everything.");
  operator.process.status.then((status) => {
    if (status.signal) return; // Stopped by Ctrl-C.
    console.error(`The operator exited (code ${status.code}); Ctrl-C stops the cluster.`);
  });
  // Ctrl-C stops the operator, then the control plane (see testenv/process.ts).
  await new Promise(() => {});
}
