/**
 * `deno task cluster [--real-node]`: starts the local control plane in `cluster` mode (etcd,
 * kube-apiserver, kube-controller-manager, kube-scheduler, and KWOK with a fake node, or with
 * `--real-node` a real node running containers: kubelet, containerd, kube-proxy, CoreDNS) with
 * the Database CRD installed, prints its kubeconfig path, and runs until Ctrl-C.
 *
 * @module
 */
import { ControlPlane } from "./testenv/mod.ts";

if (import.meta.main) {
  const unknown = Deno.args.filter((arg) => arg !== "--real-node");
  if (unknown.length) {
    console.error(`deno task cluster: unknown argument ${unknown[0]} (only --real-node)`);
    Deno.exit(2);
  }
  const realNode = Deno.args.includes("--real-node");
  const started = performance.now();
  const plane = await ControlPlane.start({
    mode: "cluster",
    realNode,
    images: ["postgres:17", "postgres:15", "operator"],
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`Control plane ready in ${seconds} s (logs in ${plane.dir}).`);
  console.log(`KUBECONFIG=${plane.kubeconfigPath}`);
  console.log(`Try: kubectl --kubeconfig ${plane.kubeconfigPath} get nodes`);
  if (realNode) {
    console.log("Images on the node: postgres:17, postgres:15, postgres-operator:latest.");
  }
  console.log("Press Ctrl-C to stop.");
  // Ctrl-C stops every process and removes the folder (see testenv/process.ts).
  await new Promise(() => {});
}
