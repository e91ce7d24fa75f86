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
import { binaryPath, kwokModuleDir } from "./binaries.ts";
import {
  controllerManagerArgs,
  type ControllerManagerOptions,
  fakeNode,
  kwokArgs,
  schedulerArgs,
  STANDARD_STORAGE_CLASS,
} from "./cluster_components.ts";
import type { ImageName } from "./images/images.ts";
import {
  assertRealNodeSupported,
  createNodeNetwork,
  lockRealNode,
  NODE_NAME,
  NODE_NETWORK,
  RealNode,
  removeHostPathVolumes,
  removeNodeNetwork,
} from "./node/mod.ts";
import { type ClusterPki, kubeconfigYaml, writeClusterPki, writeServingPair } from "./pki.ts";
import { ManagedProcess, onInterrupt } from "./process.ts";
import { fetchOk, freePorts, waitFor } from "./waiting.ts";

/** Options for {@linkcode ControlPlane.start}. */
export interface ControlPlaneOptions {
  /** @default "apiserver" */
  mode?: "apiserver" | "cluster";
  /**
   * In `cluster` mode, run a real node (kubelet, containerd, kube-proxy, CoreDNS): needs root
   * and the Debian packages `.ci/run` installs. @default false
   */
  realNode?: boolean;
  /** Images the real node gets besides the pause image. @default ["postgres:17"] */
  images?: ImageName[];
  /** Install the Database CRD and wait until it is Established. @default true */
  installCRDs?: boolean;
  /** Extra kube-apiserver flags. */
  apiServerArgs?: string[];
  /** kube-controller-manager client QPS, burst and StatefulSet workers (its defaults 20/30/5). */
  controllerManager?: ControllerManagerOptions;
  /** kube-scheduler client QPS and burst (its defaults 50/100). */
  scheduler?: { qps?: number; burst?: number };
  /** Number of KWOK fake Nodes in `cluster` mode. @default 1, or 0 with a real node */
  nodes?: number;
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
  #realNode?: RealNode;
  /** The machine's real-node lock, held from before the node's network exists until after. */
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
    const realNode = mode === "cluster" && (options.realNode ?? false);
    if (realNode) assertRealNodeSupported();
    const dir = await Deno.makeTempDir({ prefix: "postgres-operator-testenv-" });
    // A real node's pods reach the API server on the host end of the node's veth.
    const host = realNode ? NODE_NETWORK.hostIp : "127.0.0.1";
    const [etcdPort, peerPort, securePort = 0] = await freePorts(3);
    const pki = await writeClusterPki(dir, ["127.0.0.1", NODE_NETWORK.hostIp]);
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
    try {
      if (realNode) {
        plane.#realNodeLock = await lockRealNode();
        await createNodeNetwork();
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
      if (mode === "cluster") await plane.#startClusterComponents(options, pki, realNode);
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
    return this.#realNode !== undefined;
  }

  /** Runs the built kubectl against this control plane. */
  async kubectl(
    args: string[],
    stdin?: string,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const child = new Deno.Command(await binaryPath("kubectl"), {
      args: [`--kubeconfig=${this.kubeconfigPath}`, ...args],
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(stdin));
      await writer.close();
    }
    const out = await child.output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
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
  async compactEtcd(): Promise<void> {
    const call = async (api: string, body: unknown) => {
      const response = await fetch(`${this.#etcdUrl}/v3/kv/${api}`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`etcd ${api}: ${await response.text()}`);
      return await response.json();
    };
    const { header } = await call("range", { key: btoa("compact-probe") });
    await call("compaction", { revision: header.revision, physical: true });
  }

  /** The PID of one control-plane process, such as `kube-apiserver`. */
  pidOf(name: string): number | undefined {
    return this.#processes.find((p) => p.name === name)?.pid;
  }

  /** The PIDs of every process still running, the real node's included. */
  get pids(): number[] {
    return [...this.#processes.map((p) => p.pid), ...(this.#realNode?.pids ?? [])];
  }

  /**
   * Stops every process (the real node first, with its containers, mounts and network) and
   * removes the host-path volumes and the temporary folder.
   */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#forgetInterrupt();
      await this.#realNode?.stop();
      if (this.mode === "cluster") {
        const apiServerUp = this.#apiServer !== undefined && !this.#apiServer.exited;
        await removeHostPathVolumes(
          apiServerUp ? this.client : undefined,
          this.#realNode?.volumePaths,
        );
      }
      this.#client?.close();
      await this.#stopProcesses();
      if (this.#realNodeLock) {
        await removeNodeNetwork();
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

  async #startClusterComponents(
    options: ControlPlaneOptions,
    pki: ClusterPki,
    realNode: boolean,
  ): Promise<void> {
    const kubeconfig = this.kubeconfigPath;
    this.#spawn(
      "kube-controller-manager",
      await binaryPath("kube-controller-manager"),
      controllerManagerArgs(kubeconfig, pki.caFile, realNode, options.controllerManager),
    );
    this.#spawn(
      "kube-scheduler",
      await binaryPath("kube-scheduler"),
      schedulerArgs(kubeconfig, options.scheduler?.qps, options.scheduler?.burst),
    );
    const fakeNodes = options.nodes ?? (realNode ? 0 : 1);
    if (fakeNodes > 0) {
      this.#spawn("kwok", await binaryPath("kwok"), kwokArgs(kubeconfig, await kwokModuleDir()));
      for (let i = 0; i < fakeNodes; i++) {
        await this.client.request("POST", "/api/v1/nodes", { body: fakeNode(`kwok-node-${i}`) });
      }
    }
    await this.client.request("POST", "/apis/storage.k8s.io/v1/storageclasses", {
      body: STANDARD_STORAGE_CLASS,
    });
    if (realNode) {
      const serving = await writeServingPair(this.dir, "kubelet", pki.ca, {
        commonName: `system:node:${NODE_NAME}`,
        ipAddresses: [NODE_NETWORK.nodeIp],
        dnsNames: [NODE_NAME],
      });
      const metricsServing = await writeServingPair(this.dir, "metrics-server", pki.ca, {
        commonName: "metrics-server",
        ipAddresses: [NODE_NETWORK.nodeIp],
        dnsNames: ["metrics-server.kube-system.svc"],
      });
      this.#realNode = await RealNode.start({
        dir: this.dir,
        kubeconfig,
        caFile: pki.caFile,
        ...serving,
        client: this.client,
        images: options.images ?? ["postgres:17"],
        metricsServer: { ...metricsServing, caPem: pki.ca.certPem },
      });
    }
    await this.#mustKubectl([
      "wait",
      "--for=condition=Ready",
      "--timeout=60s",
      "node",
      "--all",
    ]);
    this.#assertRunning();
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

function apiServerArgs(
  dir: string,
  pki: ClusterPki,
  etcdUrl: string,
  host: string,
  securePort: number,
  realNode: boolean,
): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    `--secure-port=${securePort}`,
    `--bind-address=${host}`,
    `--advertise-address=${host}`,
    `--cert-dir=${dir}`,
    `--tls-cert-file=${pki.apiServerCert}`,
    `--tls-private-key-file=${pki.apiServerKey}`,
    `--client-ca-file=${pki.caFile}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountPrivateKey}`,
    "--service-cluster-ip-range=10.96.0.0/16",
    "--authorization-mode=RBAC",
    "--allow-privileged=true",
    "--profiling=false",
    ...(realNode
      ? [
        // Pods get their ServiceAccount's token; logs, exec and port-forward reach the kubelet
        // by the Node's address, over TLS both ways.
        `--kubelet-client-certificate=${pki.adminCert}`,
        `--kubelet-client-key=${pki.adminKey}`,
        `--kubelet-certificate-authority=${pki.caFile}`,
        "--kubelet-preferred-address-types=InternalIP",
        // The aggregation layer, for metrics-server: the API server proxies as
        // `front-proxy-client` and routes to the APIService's endpoint, not its ClusterIP.
        `--requestheader-client-ca-file=${pki.caFile}`,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        `--proxy-client-cert-file=${pki.frontProxyCert}`,
        `--proxy-client-key-file=${pki.frontProxyKey}`,
        "--enable-aggregator-routing=true",
      ]
      : ["--disable-admission-plugins=ServiceAccount"]),
  ];
}
