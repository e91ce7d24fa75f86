/**
 * A real, local Kubernetes control plane for tests, benchmarks and `deno task dev`.
 *
 * - `apiserver` mode (envtest parity): etcd and kube-apiserver with RBAC, client-certificate
 *   admin in `system:masters`, and service-account signing keys so TokenRequest works.
 * - `cluster` mode adds kube-controller-manager (garbage collector, StatefulSet, namespace and
 *   volume controllers, host-path provisioner) and kube-scheduler, and either KWOK with fake
 *   Nodes (the default: pods are scheduled, bound to volumes and marked Ready, nothing runs) or,
 *   with `realNode`, a real node (`node/`) whose pods run real containers; KWOK nodes can be
 *   added next to it for scale.
 *
 * @module
 */
import { type Connection, KubeClient } from "../../src/runtime/client/mod.ts";
import { binaryPath } from "./binaries.ts";
import { type ClusterModeOptions, realNodeCount, startClusterMode } from "./cluster_mode.ts";
import { apiServerArgs } from "./api_server_args.ts";
import {
  assertRealNodeSupported,
  CLUSTER_NETWORK,
  createClusterNetwork,
  lockRealNode,
  type NodeNetwork,
  RealCluster,
  removeClusterNetwork,
  removeHostPathVolumes,
} from "./node/mod.ts";
import { type ObjectStore, startObjectStore } from "./object_store.ts";
import { kubeconfigYaml, writeClusterPki } from "./pki.ts";
import { type RunResult, sh } from "./command.ts";
import { compactEtcd } from "./etcd.ts";
import { ManagedProcess, onInterrupt } from "./process.ts";
import { fetchOk, freePorts, waitFor } from "./waiting.ts";

/** Options for {@linkcode ControlPlane.start}. */
export interface ControlPlaneOptions extends ClusterModeOptions {
  /** @default "apiserver" */
  mode?: "apiserver" | "cluster";
  /**
   * With real nodes, also run the S3 object store (`object_store.ts`): bucket `backups`,
   * Secret `default/object-store`. @default false
   */
  objectStore?: boolean;
  /** Install the Database CRD and wait until it is Established. @default true */
  installCRDs?: boolean;
  /** Extra kube-apiserver flags. */
  apiServerArgs?: string[];
}

const REPO = new URL("../../", import.meta.url).pathname;
const CRD_DIR = `${REPO}manifests/crd/bases`;

/** A running control plane; stop it with `stop()` or `await using`. */
export class ControlPlane implements AsyncDisposable {
  readonly #processes: ManagedProcess[] = [];
  #apiServer?: ManagedProcess;
  #apiServerArgs: string[] = [];
  #client?: KubeClient;
  #etcdUrl = "";
  #realCluster?: RealCluster;
  #objectStore?: ObjectStore;
  /** The machine's real-node lock, held from before the nodes' network exists until after. */
  #realNodeLock?: Deno.FsFile;
  #forgetInterrupt = () => {};
  #stopped?: Promise<void>;

  private constructor(
    /** Temporary folder with certificates, kubeconfig and one log file per process. */
    readonly dir: string,
    readonly mode: "apiserver" | "cluster",
    /** The API server's URL. */
    readonly server: string,
    /** Admin credentials (client certificate in `system:masters`). */
    readonly connection: Connection,
    /** Kubeconfig file for kubectl and the operator. */
    readonly kubeconfigPath: string,
  ) {}

  /**
   * Starts the processes and waits until the API server is ready (and the nodes, in `cluster`
   * mode).
   * @throws {Error} naming the failing process and the folder with its logs; or, for a real
   * node on a machine that cannot run one, one line naming what is missing.
   */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const mode = options.mode ?? "apiserver";
    const realNodes = mode === "cluster" ? realNodeCount(options) : 0;
    const realNode = realNodes > 0;
    if (realNode) assertRealNodeSupported();
    if (options.objectStore && !realNode) {
      throw new Error("The object store runs with real nodes (realNodes ≥ 1, cluster mode)");
    }
    const dir = await Deno.makeTempDir({ prefix: "postgres-operator-testenv-" });
    // Real nodes' pods reach the API server on the host's address on the nodes' bridge.
    const host = realNode ? CLUSTER_NETWORK.hostIp : "127.0.0.1";
    const [etcdPort, peerPort, securePort = 0] = await freePorts(3);
    const pki = await writeClusterPki(dir, ["127.0.0.1", CLUSTER_NETWORK.hostIp]);
    const server = `https://${host}:${securePort}`;
    const connection: Connection = {
      server,
      caPem: pki.ca.certPem,
      certPem: pki.admin.certPem,
      keyPem: pki.admin.keyPem,
      namespace: "default",
      source: "testenv",
    };
    const kubeconfigPath = `${dir}/kubeconfig`;
    await Deno.writeTextFile(kubeconfigPath, kubeconfigYaml(connection));
    const plane = new ControlPlane(dir, mode, server, connection, kubeconfigPath);
    plane.#forgetInterrupt = onInterrupt(() => plane.stop());
    let networks: NodeNetwork[] = [];
    try {
      if (realNode) {
        plane.#realNodeLock = await lockRealNode();
        networks = await createClusterNetwork(realNodes);
      }
      const etcdUrl = plane.#etcdUrl = `http://127.0.0.1:${etcdPort}`;
      const peerUrl = `http://127.0.0.1:${peerPort}`;
      plane.#spawn("etcd", await binaryPath("etcd"), [
        `--data-dir=${dir}/etcd`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        "--unsafe-no-fsync",
        "--log-level=warn",
      ]);
      await waitFor("etcd", () => fetchOk(`${etcdUrl}/health`), 30_000);
      plane.#apiServerArgs = apiServerArgs(dir, pki, etcdUrl, host, securePort, realNode)
        .concat(options.apiServerArgs ?? []);
      await plane.#startApiServer();
      // CRDs first: the garbage collector discovers resource types at start, and would
      // otherwise see the Database type only at its next 30-second rediscovery.
      if (options.installCRDs ?? true) await plane.installCRDs();
      if (mode === "cluster") {
        plane.#realCluster = await startClusterMode({
          dir,
          kubeconfig: kubeconfigPath,
          client: plane.client,
          pki,
          networks,
          options,
          spawn: (name, command, args) => plane.#spawn(name, command, args),
        });
        await plane.#mustKubectl([
          "wait",
          "--for=condition=Ready",
          "--timeout=60s",
          "node",
          "--all",
        ]);
        plane.#assertRunning();
      }
      if (options.objectStore) {
        plane.#objectStore = await startObjectStore(plane.client, dir, pki);
      }
      return plane;
    } catch (error) {
      await plane.stop();
      throw new Error(`Control plane failed to start; logs were in ${dir}: ${error}`, {
        cause: error,
      });
    }
  }

  /** An admin client without client-side rate limiting. */
  get client(): KubeClient {
    this.#client ??= new KubeClient(this.connection, { qps: 0, userAgent: "testenv" });
    return this.#client;
  }

  /** Whether this cluster has a real node. */
  get hasRealNode(): boolean {
    return this.#realCluster !== undefined;
  }

  /** The real nodes' names (`real-node`, `real-node-2`, …), in order. */
  get realNodes(): string[] {
    return this.#realCluster?.names ?? [];
  }

  /** The object store, when started with `objectStore: true`. */
  get objectStore(): ObjectStore {
    if (!this.#objectStore) throw new Error("This cluster was started without objectStore");
    return this.#objectStore;
  }

  /**
   * `deno task node fail NODE`: every process of the node is killed at once and its link goes
   * down; its disk stays. Resolves with the line the task prints.
   * @throws {NodeRequestError} for an unknown node.
   */
  failNode(name: string): Promise<string> {
    return this.#nodes().fail(name);
  }

  /** `deno task node partition NODE`: the node's link is cut, its processes keep running. */
  partitionNode(name: string): Promise<string> {
    return this.#nodes().partition(name);
  }

  /** `deno task node restore NODE`: the link comes back, and a failed node's processes. */
  restoreNode(name: string): Promise<string> {
    return this.#nodes().restore(name);
  }

  /** `deno task node list`: each node's name, state, readiness and pods, in one line. */
  listNodes(): Promise<string> {
    return this.#nodes().list();
  }

  /** The PIDs of one real node's processes (its daemons and its pods'), as the host sees them. */
  nodePids(name: string): Promise<number[]> {
    return this.#nodes().node(name).pids();
  }

  /** Runs the built kubectl against this control plane. */
  async kubectl(args: string[], stdin?: string): Promise<RunResult> {
    return await sh(await binaryPath("kubectl"), [`--kubeconfig=${this.kubeconfigPath}`, ...args], {
      allowFailure: true,
      ...(stdin === undefined ? {} : { stdin }),
    });
  }

  /** Server-side applies the CRDs from `manifests/crd/bases` and waits until Established. */
  async installCRDs(): Promise<void> {
    await this.#mustKubectl(["apply", "--server-side", "--force-conflicts", "-f", CRD_DIR]);
    await this.#mustKubectl([
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      "crd",
      "--all",
    ]);
  }

  /** Stops and starts kube-apiserver on the same port, as an outage in the middle of a run. */
  async restartApiServer(): Promise<void> {
    await this.#apiServer?.stop();
    await this.#startApiServer();
  }

  /**
   * Compacts etcd's history up to its current revision, so that watches and lists from any
   * older resourceVersion are answered with 410 Gone (when they reach etcd).
   */
  compactEtcd(): Promise<void> {
    return compactEtcd(this.#etcdUrl);
  }

  /** The PID of one control-plane process, such as `kube-apiserver`. */
  pidOf(name: string): number | undefined {
    return this.#processes.find((p) => p.name === name)?.pid;
  }

  /** The PIDs of the control plane's processes (the real nodes': {@linkcode nodePids}). */
  get pids(): number[] {
    return [...this.#processes.map((p) => p.pid), ...(this.#realCluster?.addonPids ?? [])];
  }

  /**
   * Stops every process (the real node first, with its containers, mounts and network) and
   * removes the host-path volumes and the temporary folder.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#forgetInterrupt();
      await this.#objectStore?.stop();
      await this.#realCluster?.stop();
      if (this.mode === "cluster") {
        const apiServerUp = this.#apiServer !== undefined && !this.#apiServer.exited;
        await removeHostPathVolumes(apiServerUp ? this.client : undefined);
      }
      this.#client?.close();
      await this.#stopProcesses();
      if (this.#realNodeLock) {
        await removeClusterNetwork();
        this.#realNodeLock.close();
      }
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    })();
    return this.#stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #spawn(name: string, command: string, args: string[]): ManagedProcess {
    const process = ManagedProcess.start({ name, command, args, logDir: this.dir });
    this.#processes.push(process);
    return process;
  }

  async #startApiServer(): Promise<void> {
    if (this.#apiServer) this.#processes.splice(this.#processes.indexOf(this.#apiServer), 1);
    this.#apiServer = this.#spawn(
      "kube-apiserver",
      await binaryPath("kube-apiserver"),
      this.#apiServerArgs,
    );
    const http = Deno.createHttpClient({
      caCerts: [this.connection.caPem!],
      cert: this.connection.certPem!,
      key: this.connection.keyPem!,
    });
    try {
      await waitFor(
        "kube-apiserver /readyz",
        () => fetchOk(`${this.server}/readyz`, http),
        90_000,
        this.#apiServer,
      );
    } finally {
      http.close();
    }
  }

  #nodes(): RealCluster {
    if (!this.#realCluster) throw new Error("This cluster has no real nodes");
    return this.#realCluster;
  }

  /** Fails with the log of any control-plane process that has already exited. */
  #assertRunning(): void {
    const dead = this.#processes.find((p) => p.exited);
    if (dead) throw new Error(`${dead.name} exited:\n${dead.tail()}`);
  }

  async #mustKubectl(args: string[]): Promise<string> {
    const out = await this.kubectl(args);
    if (out.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${out.stderr.trim()}`);
    return out.stdout;
  }

  async #stopProcesses(): Promise<void> {
    // Reverse start order: clients first, etcd last.
    for (const process of [...this.#processes].reverse()) await process.stop();
    this.#processes.length = 0;
  }
}
