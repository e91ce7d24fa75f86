/**
 * One real node of the local cluster: containerd + runc + CNI, the kubelet and kube-proxy, in a
 * network namespace of its own (`node_network.ts`), running real containers from images built
 * here, with its own folder, cgroup root and volume root. `start` brings it up against a
 * running API server; `fail`, `partition` and `restore` are the faults a machine suffers;
 * `stop` removes every container, shim, mount and cgroup it made. The network itself is
 * created before the API server starts (which listens on it) and removed after it stops.
 *
 * @module
 */
import type { KubeClient } from "../../../src/runtime/client/mod.ts";
import type { ImageName } from "../images/images.ts";
import type { ManagedProcess } from "../process.ts";
import { waitFor } from "../waiting.ts";
import { cgroupRoot, createCgroupRoot, pidsInCgroup, removeCgroupRoot } from "./cgroups.ts";
import {
  containerdPaths,
  importImages,
  killShims,
  removeAllPods,
  startContainerd,
} from "./containerd.ts";
import { type KubeletFiles, startKubelet } from "./kubelet.ts";
import { startKubeProxy } from "./kube_proxy.ts";
import { alive, killAll, pidsInNodeNetwork, setNodeLink } from "./node_network.ts";

/** Options for {@linkcode RealNode.start}. */
export interface RealNodeOptions extends KubeletFiles {
  /** An admin client of the cluster. */
  client: KubeClient;
  /** Images to import besides the pause image. */
  images: ImageName[];
}

/** What a node is going through: `running`, `failed` (dead, disk kept), `partitioned`. */
export type NodeState = "running" | "failed" | "partitioned";

/** A running node; `stop()` takes everything down. */
export class RealNode {
  readonly #processes: ManagedProcess[] = [];
  #state: NodeState = "running";

  private constructor(readonly options: RealNodeOptions) {}

  /**
   * Starts the node and waits until its Node is Ready.
   * @throws {Error} naming the component that failed; the node is already stopped then.
   */
  static async start(options: RealNodeOptions): Promise<RealNode> {
    const node = new RealNode(options);
    try {
      await Deno.mkdir(options.dir, { recursive: true });
      await createCgroupRoot(cgroupRoot(options.node));
      await node.#startProcesses(true);
      return node;
    } catch (error) {
      await node.stop();
      throw error;
    }
  }

  /** The Node's name. */
  get name(): string {
    return this.options.node.name;
  }

  /** What the node is going through. */
  get state(): NodeState {
    return this.#state;
  }

  /** The PIDs of the node's processes (daemons and the pods' processes). */
  async pids(): Promise<number[]> {
    const pids = new Set(await pidsInNodeNetwork(this.options.node));
    for (const pid of pidsInCgroup(cgroupRoot(this.options.node))) pids.add(pid);
    return [...pids];
  }

  /**
   * The node dies as a machine dies: every process of it (kubelet, containerd, kube-proxy,
   * shims, containers) gets SIGKILL in one sweep, then its link goes down. The disk stays.
   * @returns how many processes the first sweep killed.
   */
  async fail(): Promise<number> {
    if (this.#state === "failed") return 0;
    let killed = 0;
    const seen = new Set<number>();
    for (let sweep = 0; sweep < 50; sweep++) {
      const pids = await this.pids();
      if (pids.length === 0) break;
      if (sweep === 0) killed = pids.length;
      for (const pid of pids) seen.add(pid);
      killAll(pids);
      await new Promise((r) => setTimeout(r, 20));
    }
    // A killed process leaves its namespaces and cgroup before it has finished exiting (freeing
    // a large shared memory takes a while): the node is dead once each one is gone or a zombie.
    await waitFor(
      "the failed node's processes to exit",
      () => Promise.resolve(![...seen].some(alive)),
      30_000,
    );
    await setNodeLink(this.options.node, false);
    this.#state = "failed";
    for (const process of this.#processes) await process.stop();
    this.#processes.length = 0;
    return killed;
  }

  /** Cuts the node's link: its processes run on, the rest of the cluster cannot reach it. */
  async partition(): Promise<void> {
    if (this.#state === "failed") throw new Error(`${this.name} has failed; restore it first`);
    await setNodeLink(this.options.node, false);
    this.#state = "partitioned";
  }

  /**
   * Brings the node back: the link up and, after a failure, containerd, the kubelet and
   * kube-proxy started again over the same folders; resolves once the Node is Ready again.
   */
  async restore(): Promise<void> {
    await setNodeLink(this.options.node, true);
    if (this.#state === "failed") await this.#startProcesses(false);
    this.#state = "running";
  }

  /**
   * Stops the node: the kubelet first (so nothing restarts pods), then every pod through the
   * CRI, containerd, leftover shims and processes in the pods' cgroups.
   */
  async stop(): Promise<void> {
    if (this.#state === "failed") {
      // A dead node's sandboxes still hold network namespaces, IPAM leases and mounts: a
      // containerd over the same state tears them down through the CRI, as on any other stop.
      const containerd = await startContainerd(this.options.dir, this.options.node).catch(
        () => undefined,
      );
      if (containerd) this.#processes.push(containerd);
      this.#state = "running";
    }
    const containerd = this.#processes.find((p) => p.name === "containerd");
    for (const process of [...this.#processes].reverse()) {
      if (process !== containerd) await process.stop();
    }
    if (containerd && !containerd.exited) await removeAllPods(this.options.dir);
    await containerd?.stop();
    this.#processes.length = 0;
    killShims(containerdPaths(this.options.dir).socket);
    await removeCgroupRoot(cgroupRoot(this.options.node));
  }

  async #startProcesses(importing: boolean): Promise<void> {
    const { dir, node, client } = this.options;
    this.#processes.push(await startContainerd(dir, node));
    if (importing) await importImages(dir, this.options.images);
    const kubelet = await startKubelet(this.options);
    this.#processes.push(kubelet);
    await waitForNodeReady(client, node.name, kubelet);
    this.#processes.push(await startKubeProxy(dir, this.options.kubeconfig, node));
  }
}

async function waitForNodeReady(
  client: KubeClient,
  name: string,
  kubelet: ManagedProcess,
): Promise<void> {
  const ready = async () => {
    const node = await client.request<
      { status?: { conditions?: { type: string; status: string }[] } }
    >("GET", `/api/v1/nodes/${name}`).catch(() => undefined);
    return node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ??
      false;
  };
  await waitFor(`Node ${name} Ready`, ready, 120_000, kubelet);
}
