/**
 * A real node for the local cluster: containerd + runc + CNI, the kubelet, kube-proxy,
 * CoreDNS and metrics-server, in a network namespace of their own (`node_network.ts`), running real containers
 * from images built here. `start` brings it up against a running API server; `stop` removes
 * every container, shim, mount, cgroup and host file it made. The network itself is created
 * before the API server starts (which listens on it) and removed after it stops, by the
 * control plane.
 *
 * @module
 */
import type { KubeClient } from "../../../src/runtime/client/mod.ts";
import type { ImageName } from "../images/images.ts";
import type { ManagedProcess } from "../process.ts";
import { waitFor } from "../waiting.ts";
import { createCgroupRoot, removeCgroupRoot } from "./cgroups.ts";
import {
  containerdPaths,
  importImages,
  killShims,
  removeAllPods,
  startContainerd,
} from "./containerd.ts";
import { startCoreDns } from "./coredns.ts";
import { restoreHostPaths, snapshotHostPaths, unmountBelow } from "./host_paths.ts";
import { type KubeletFiles, NODE_NAME, startKubelet } from "./kubelet.ts";
import { startKubeProxy } from "./kube_proxy.ts";
import { type MetricsServerFiles, startMetricsServer } from "./metrics_server.ts";
import { watchVolumePermissions } from "./volume_permissions.ts";

/** What every harness containerd's socket path holds (the clusters' folder prefix). */
const STALE_SHIMS = "/postgres-operator-testenv-";

/** Options for {@linkcode RealNode.start}. */
export interface RealNodeOptions extends KubeletFiles {
  /** An admin client of the cluster. */
  client: KubeClient;
  /** Images to import besides the pause image. */
  images: ImageName[];
  /** metrics-server's serving pair and the CA in PEM, for its APIService. */
  metricsServer: Pick<MetricsServerFiles, "certFile" | "keyFile" | "caPem">;
}

/** The running node; `stop()` takes everything down. */
export class RealNode {
  readonly #processes: ManagedProcess[] = [];
  readonly #hostPaths = snapshotHostPaths();
  readonly #abort = new AbortController();
  #volumes?: Promise<void>;
  /** The host-path volume folders this node's pods used. */
  readonly volumePaths = new Set<string>();

  private constructor(readonly dir: string) {}

  /**
   * Starts the node and waits until the Node is Ready and cluster DNS answers.
   * @throws {Error} naming the component that failed; the node is already stopped then.
   */
  static async start(options: RealNodeOptions): Promise<RealNode> {
    const node = new RealNode(options.dir);
    try {
      // The lock is held: whatever an earlier node left in its cgroups belongs to a dead holder.
      await removeCgroupRoot();
      killShims(STALE_SHIMS);
      await createCgroupRoot();
      node.#processes.push(await startContainerd(options.dir));
      await importImages(options.dir, options.images);
      const kubelet = await startKubelet(options);
      node.#processes.push(kubelet);
      node.#volumes = watchVolumePermissions(
        options.client,
        node.volumePaths,
        node.#abort.signal,
      );
      await waitForNodeReady(options.client, kubelet);
      node.#processes.push(await startKubeProxy(options.dir, options.kubeconfig));
      node.#processes.push(await startCoreDns(options.dir, options.kubeconfig));
      node.#processes.push(
        await startMetricsServer(options.client, { ...options, ...options.metricsServer }),
      );
      return node;
    } catch (error) {
      await node.stop();
      throw error;
    }
  }

  /** The PIDs of the node's processes. */
  get pids(): number[] {
    return this.#processes.map((p) => p.pid);
  }

  /**
   * Stops the node: the kubelet first (so nothing restarts pods), then every pod through the
   * CRI, containerd, leftover shims and processes in the pods' cgroups, mounts below the
   * folder, and what the components wrote to host paths.
   */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#volumes?.catch(() => {});
    const containerd = this.#processes.find((p) => p.name === "containerd");
    for (const process of [...this.#processes].reverse()) {
      if (process !== containerd) await process.stop();
    }
    if (containerd && !containerd.exited) await removeAllPods(this.dir);
    await containerd?.stop();
    this.#processes.length = 0;
    killShims(containerdPaths(this.dir).socket);
    await removeCgroupRoot();
    await unmountBelow(this.dir);
    await restoreHostPaths(this.#hostPaths);
  }
}

async function waitForNodeReady(client: KubeClient, kubelet: ManagedProcess): Promise<void> {
  const ready = async () => {
    const node = await client.request<
      { status?: { conditions?: { type: string; status: string }[] } }
    >("GET", `/api/v1/nodes/${NODE_NAME}`).catch(() => undefined);
    return node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ??
      false;
  };
  await waitFor(`Node ${NODE_NAME} Ready`, ready, 120_000, kubelet);
}
