/**
 * `deno task cluster [--real-nodes N] [--object-store]`: starts the local control plane in
 * `cluster` mode (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and KWOK with
 * a fake node, or with `--real-nodes N` (1 to 3; `--real-node` is 1) real nodes running
 * containers: kubelet, containerd and kube-proxy each, CoreDNS and metrics-server once), with
 * `--object-store` an S3 store, the Database CRD installed; prints its kubeconfig path and runs
 * until Ctrl-C. `deno task node …` breaks and mends its nodes from another terminal.
 *
 * @module
 */
import { parseClusterArgs } from "./cluster_args.ts";
import { helpAsked } from "./task_args.ts";
import { ControlPlane } from "./testenv/mod.ts";

const USAGE = "usage: deno task cluster [--real-nodes 1-3 | --real-node] [--object-store]\n" +
  "  the local control plane in cluster mode with the CRD installed; prints KUBECONFIG=…";

if (import.meta.main) {
  if (helpAsked(Deno.args)) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let flags;
  try {
    flags = parseClusterArgs(Deno.args);
    if (flags.rest.length) throw new Error(`unknown argument ${flags.rest[0]}`);
  } catch (error) {
    console.error(
      `deno task cluster: ${(error as Error).message}\n${USAGE}`,
    );
    Deno.exit(2);
  }
  const started = performance.now();
  const plane = await ControlPlane.start({
    mode: "cluster",
    realNodes: flags.realNodes,
    objectStore: flags.objectStore,
    images: ["postgres:17", "postgres:15", "postgresql:17", "operator"],
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`Control plane ready in ${seconds} s (logs in ${plane.dir}).`);
  console.log(`KUBECONFIG=${plane.kubeconfigPath}`);
  console.log(`Try: kubectl --kubeconfig ${plane.kubeconfigPath} get nodes`);
  if (flags.realNodes > 0) {
    console.log(`Real nodes: ${plane.realNodes.join(", ")}.`);
    console.log("Images on the nodes: postgres:17, postgres:15, postgres-operator:latest.");
    console.log(
      `Faults: KUBECONFIG=${plane.kubeconfigPath} deno task node fail|partition|restore NODE ` +
        "(or: deno task node list)",
    );
  }
  if (flags.objectStore) printObjectStore(plane);
  console.log("Press Ctrl-C to stop.");
  // Ctrl-C stops every process and removes the folder (see testenv/process.ts).
  await new Promise(() => {});
}

/** What the Secret `default/object-store` holds (the secret key by reference). */
export function printObjectStore(plane: ControlPlane): void {
  const store = plane.objectStore;
  console.log(
    `Object store: ${store.endpoint} (from the host ${store.hostEndpoint}), bucket ` +
      `${store.bucket}; Secret default/object-store: endpoint, bucket, region, accessKeyId ` +
      `(${store.accessKeyId}), secretAccessKey, ca.crt`,
  );
}
