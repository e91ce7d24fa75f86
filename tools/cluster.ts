/**
 * `deno task cluster`: starts the local control plane in `cluster` mode (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, KWOK with a fake node) with the Database CRD
 * installed, prints its kubeconfig path, and runs until Ctrl-C.
 *
 * @module
 */
import { ControlPlane } from "./testenv/mod.ts";

if (import.meta.main) {
  const started = performance.now();
  const plane = await ControlPlane.start({ mode: "cluster" });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`Control plane ready in ${seconds} s (logs in ${plane.dir}).`);
  console.log(`KUBECONFIG=${plane.kubeconfigPath}`);
  console.log(`Try: kubectl --kubeconfig ${plane.kubeconfigPath} get nodes`);
  console.log("Press Ctrl-C to stop.");
  // Ctrl-C stops every process and removes the folder (see testenv/process.ts).
  await new Promise(() => {});
}
