/**
 * The real nodes of one local cluster and what they share: the volume provisioner, CoreDNS and
 * metrics-server (once, on the host beside the API server, as on kind's control-plane node),
 * the host-path snapshot that `stop` restores, and the fault switchboard (`node_control.ts`)
 * that `deno task node` talks to. The nodes' network is created by the control plane before
 * the API server starts, and removed after it stops.
 *
 * @module
 */
import type { KubeClient } from "../../../src/runtime/client/mod.ts";
import type { ImageName } from "../images/images.ts";
import { type ClusterPki, writeServingPair } from "../pki.ts";
import type { ManagedProcess } from "../process.ts";
import { cgroupRoot, removeCgroupRoot } from "./cgroups.ts";
import { killShims } from "./containerd.ts";
import { startCoreDns } from "./coredns.ts";
import { restoreHostPaths, snapshotHostPaths, unmountBelow } from "./host_paths.ts";
import { serveLocalVolumes } from "./local_volumes.ts";
import { startMetricsServer } from "./metrics_server.ts";
import { type NodeRequest, NodeRequestError, serveNodeControl } from "./node_control.ts";
import { CLUSTER_NETWORK, MAX_REAL_NODES, type NodeNetwork, nodeNetwork } from "./node_network.ts";
import { RealNode } from "./real_node.ts";

/** What every harness containerd's socket path holds (the clusters' folder prefix). */
const STALE_SHIMS = "/postgres-operator-testenv-";

/** Options for {@linkcode RealCluster.start}. */
export interface RealClusterOptions {
  /** The cluster's folder; node `n` lives in `nodes/<name>` below it. */
  dir: string;
  kubeconfig: string;
  /** An admin client of the cluster. */
  client: KubeClient;
  pki: ClusterPki;
  /** The nodes' networks, already created. */
  nodes: NodeNetwork[];
  /** Images every node gets besides the pause image. */
  images: ImageName[];
}

/** The running nodes; `stop()` takes them and their shared parts down. */
export class RealCluster {
  readonly #nodes: RealNode[] = [];
  readonly #addons: ManagedProcess[] = [];
  readonly #hostPaths = snapshotHostPaths();
  readonly #abort = new AbortController();
  #volumes?: Promise<void>;
  #closeControl?: () => Promise<void>;

  private constructor(readonly options: RealClusterOptions) {}

  /**
   * Starts the nodes (side by side), then CoreDNS and metrics-server, and opens the
   * switchboard; resolves when every Node is Ready and cluster DNS answers.
   * @throws {Error} naming the component that failed; everything is stopped then.
   */
  static async start(options: RealClusterOptions): Promise<RealCluster> {
    const cluster = new RealCluster(options);
    const { dir, client, pki, kubeconfig } = options;
    try {
      // The lock is held: whatever an earlier cluster left in cgroups belongs to a dead holder.
      for (let i = 0; i < MAX_REAL_NODES; i++) await removeCgroupRoot(cgroupRoot(nodeNetwork(i)));
      killShims(STALE_SHIMS);
      cluster.#volumes = serveLocalVolumes(client, dir, cluster.#abort.signal);
      const started = await Promise.allSettled(options.nodes.map(async (node) => {
        const nodeDir = `${dir}/nodes/${node.name}`;
        await Deno.mkdir(nodeDir, { recursive: true });
        const serving = await writeServingPair(nodeDir, "kubelet", pki.ca, {
          commonName: `system:node:${node.name}`,
          ipAddresses: [node.nodeIp],
          dnsNames: [node.name],
        });
        const files = { dir: nodeDir, node, kubeconfig, caFile: pki.caFile, ...serving };
        return await RealNode.start({ ...files, client, images: options.images });
      }));
      for (const result of started) {
        if (result.status === "fulfilled") cluster.#nodes.push(result.value);
      }
      const failed = started.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
      cluster.#addons.push(await startCoreDns(dir, kubeconfig));
      const metricsServing = await writeServingPair(dir, "metrics-server", pki.ca, {
        commonName: "metrics-server",
        ipAddresses: [CLUSTER_NETWORK.hostIp],
        dnsNames: ["metrics-server.kube-system.svc"],
      });
      cluster.#addons.push(
        await startMetricsServer(client, {
          dir,
          kubeconfig,
          caFile: pki.caFile,
          caPem: pki.ca.certPem,
          ...metricsServing,
        }),
      );
      cluster.#closeControl = serveNodeControl(dir, (request) => cluster.#handle(request));
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** The nodes' names, in order. */
  get names(): string[] {
    return this.#nodes.map((n) => n.name);
  }

  /** The PIDs of the shared processes (CoreDNS, metrics-server). */
  get addonPids(): number[] {
    return this.#addons.map((p) => p.pid);
  }

  /** The node named `name`. @throws {NodeRequestError} (code 2) for an unknown name. */
  node(name: string | undefined): RealNode {
    const node = this.#nodes.find((n) => n.name === name);
    if (!node) {
      throw new NodeRequestError(
        `unknown node ${JSON.stringify(name ?? "")}; the nodes are ${this.names.join(", ")}`,
      );
    }
    return node;
  }

  /** Kills every process of the node at once and takes its link down (its disk stays). */
  async fail(name: string): Promise<string> {
    const killed = await this.node(name).fail();
    return `node ${name} failed: ${killed} processes killed at once, link down, disk kept`;
  }

  /** Cuts the node's link; its processes keep running. */
  async partition(name: string): Promise<string> {
    await this.node(name).partition();
    return `node ${name} partitioned: link down, its processes keep running`;
  }

  /** Restores the link and, after `fail`, the node's processes over the same disk. */
  async restore(name: string): Promise<string> {
    const node = this.node(name);
    const was = node.state;
    await node.restore();
    return was === "failed"
      ? `node ${name} restored: containerd, kubelet and kube-proxy started again, Node Ready`
      : `node ${name} restored: link up`;
  }

  /** One line: each node's name, state, Ready condition and number of pods. */
  async list(): Promise<string> {
    const { client } = this.options;
    const parts = await Promise.all(this.#nodes.map(async (node) => {
      const live = await client.request<
        { status?: { conditions?: { type: string; status: string }[] } }
      >("GET", `/api/v1/nodes/${node.name}`).catch(() => undefined);
      const ready = live?.status?.conditions?.find((c) => c.type === "Ready")?.status;
      const pods = await client.request<{ items: unknown[] }>("GET", "/api/v1/pods", {
        query: { fieldSelector: `spec.nodeName=${node.name}` },
      }).then((list) => list.items.length, () => "?");
      const readiness = ready === "True" ? "Ready" : "NotReady";
      return `${node.name} ${node.state} ${readiness} ${pods} pods`;
    }));
    return parts.join("; ");
  }

  /**
   * Stops the switchboard, the shared processes, the provisioner and every node, then removes
   * mounts below the folder and what the components wrote to host paths.
   */
  async stop(): Promise<void> {
    await this.#closeControl?.();
    this.#abort.abort();
    await this.#volumes?.catch(() => {});
    for (const addon of [...this.#addons].reverse()) await addon.stop();
    this.#addons.length = 0;
    await Promise.all(this.#nodes.map((node) => node.stop()));
    this.#nodes.length = 0;
    await unmountBelow(this.options.dir);
    await restoreHostPaths(this.#hostPaths);
  }

  async #handle(request: NodeRequest): Promise<string> {
    switch (request.op) {
      case "fail":
        return await this.fail(request.node ?? "");
      case "partition":
        return await this.partition(request.node ?? "");
      case "restore":
        return await this.restore(request.node ?? "");
      case "list":
        return await this.list();
      default:
        throw new NodeRequestError(`unknown operation ${JSON.stringify(request.op)}`);
    }
  }
}
