/**
 * `deno task controlplane`: builds every binary the harness starts that is not cached yet (etcd,
 * kube-apiserver, kubectl, kube-controller-manager, kube-scheduler, KWOK; for the real node the
 * kubelet, kube-proxy, CoreDNS, crictl and the pause program; versitygw for the object store;
 * Helm and promtool for the packaging tests; the controller-runtime peer of
 * `deno task bench:peer`) and, where this machine can run a real node, its images (pause, postgres:17,
 * postgres:15, the operator), and prints where they are. CI runs it first so the build shows as
 * its own step.
 *
 * @module
 */
import { cacheDir, ensureAll, pinnedVersions } from "./testenv/binaries.ts";
import { ensureImage, type ImageName, missingForRealNode } from "./testenv/mod.ts";
import { taskArgs } from "./task_args.ts";

if (import.meta.main) {
  taskArgs({
    task: "controlplane",
    summary: "builds the control-plane and node binaries and the node images once (cached)",
    options: {},
  });
  const started = performance.now();
  await ensureAll().catch((error) => {
    // One line, not a stack trace: what is missing and how to go on.
    console.error(`deno task controlplane: ${(error as Error).message}`);
    Deno.exit(1);
  });
  const missing = missingForRealNode();
  if (missing) {
    console.error(`No real-node images: this machine lacks ${missing}`);
  } else {
    const images: ImageName[] = [
      "pause",
      "postgres:17",
      "postgres:15",
      "postgresql:17",
      "operator",
    ];
    for (const image of images) await ensureImage(image);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(
    `Control-plane binaries for ${
      JSON.stringify(pinnedVersions())
    } in ${cacheDir()} (${seconds} s)`,
  );
}
