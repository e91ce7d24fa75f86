/**
 * What `cluster` mode starts after the API server: kube-controller-manager, kube-scheduler,
 * KWOK with its fake Nodes, the default StorageClass, and the real nodes.
 *
 * @module
 */
import type { KubeClient } from "../../src/runtime/client/mod.ts";
import { binaryPath, kwokModuleDir } from "./binaries.ts";
import {
  controllerManagerArgs,
  type ControllerManagerOptions,
  fakeNode,
  kwokArgs,
  schedulerArgs,
  standardStorageClass,
} from "./cluster_components.ts";
import type { ImageName } from "./images/images.ts";
import { MAX_REAL_NODES, type NodeNetwork, RealCluster } from "./node/mod.ts";
import type { ClusterPki } from "./pki.ts";
import type { ManagedProcess } from "./process.ts";

/** The options of `ControlPlane.start` that cluster mode reads. */
export interface ClusterModeOptions {
  /**
   * In `cluster` mode, run this many real nodes (1 to 3; kubelet, containerd, kube-proxy each,
   * CoreDNS and metrics-server once): needs root and the Debian packages `.ci/run` installs.
   * @default 0, or 1 with `realNode`
   */
  realNodes?: number;
  /** The same as `realNodes: 1`. @default false */
  realNode?: boolean;
  /** Images the real nodes get besides the pause image. @default ["postgres:17"] */
  images?: ImageName[];
  /** kube-controller-manager client QPS, burst and StatefulSet workers (its defaults 20/30/5). */
  controllerManager?: ControllerManagerOptions;
  /** kube-scheduler client QPS and burst (its defaults 50/100). */
  scheduler?: { qps?: number; burst?: number };
  /** Number of KWOK fake Nodes in `cluster` mode. @default 1, or 0 with a real node */
  nodes?: number;
}

/** What cluster mode needs from the control plane that starts it. */
export interface ClusterModeContext {
  dir: string;
  kubeconfig: string;
  client: KubeClient;
  pki: ClusterPki;
  /** The real nodes' networks, already created; none for a KWOK-only cluster. */
  networks: NodeNetwork[];
  options: ClusterModeOptions;
  /** Starts a control-plane process, stopped with the control plane. */
  spawn(name: string, command: string, args: string[]): ManagedProcess;
}

/** Starts the components; resolves with the real nodes, when there are any. */
export async function startClusterMode(
  context: ClusterModeContext,
): Promise<RealCluster | undefined> {
  const { client, kubeconfig, networks, options, pki, spawn } = context;
  const realNode = networks.length > 0;
  spawn(
    "kube-controller-manager",
    await binaryPath("kube-controller-manager"),
    controllerManagerArgs(kubeconfig, pki.caFile, realNode, options.controllerManager),
  );
  spawn(
    "kube-scheduler",
    await binaryPath("kube-scheduler"),
    schedulerArgs(kubeconfig, options.scheduler?.qps, options.scheduler?.burst),
  );
  const fakeNodes = options.nodes ?? (realNode ? 0 : 1);
  if (fakeNodes > 0) {
    spawn("kwok", await binaryPath("kwok"), kwokArgs(kubeconfig, await kwokModuleDir()));
    for (let i = 0; i < fakeNodes; i++) {
      await client.request("POST", "/api/v1/nodes", { body: fakeNode(`kwok-node-${i}`) });
    }
  }
  await client.request("POST", "/apis/storage.k8s.io/v1/storageclasses", {
    body: standardStorageClass(realNode),
  });
  if (!realNode) return undefined;
  return await RealCluster.start({
    dir: context.dir,
    kubeconfig,
    client,
    pki,
    nodes: networks,
    images: options.images ?? ["postgres:17"],
  });
}

/** How many real nodes the options ask for. @throws {RangeError} outside 0..3. */
export function realNodeCount(options: ClusterModeOptions): number {
  const count = options.realNodes ?? (options.realNode ? 1 : 0);
  if (!Number.isInteger(count) || count < 0 || count > MAX_REAL_NODES) {
    throw new RangeError(`realNodes must be 0 to ${MAX_REAL_NODES}, not ${count}`);
  }
  return count;
}
