/**
 * A real, local Kubernetes control plane for tests, benchmarks and `deno task dev`.
 *
 * - `apiserver` mode (envtest parity): etcd and kube-apiserver with RBAC, client-certificate
 *   admin in `system:masters`, and service-account signing keys so TokenRequest works.
 * - `cluster` mode adds kube-controller-manager (garbage collector, StatefulSet, namespace and
 *   volume controllers, host-path provisioner), kube-scheduler and KWOK with fake Nodes, so
 *   StatefulSet Pods really get scheduled, bound to provisioned volumes and become Ready.
 *
 * @module
 */
import { createCertificate, createKeyPair } from "../../src/runtime/certificates.ts";
import type { Connection } from "../../src/runtime/kubeconfig.ts";
import { KubeClient } from "../../src/runtime/kube_client.ts";
import { binaryPath, kwokModuleDir } from "./binaries.ts";
import { ManagedProcess, onInterrupt } from "./process.ts";

/** Options for {@linkcode ControlPlane.start}. */
export interface ControlPlaneOptions {
  /** @default "apiserver" */
  mode?: "apiserver" | "cluster";
  /** Install the Database CRD and wait until it is Established. @default true */
  installCRDs?: boolean;
  /** Extra kube-apiserver flags. */
  apiServerArgs?: string[];
  /** kube-controller-manager client QPS, burst and StatefulSet workers (its defaults 20/30/5). */
  controllerManager?: { qps?: number; burst?: number; statefulSetSyncs?: number };
  /** kube-scheduler client QPS and burst (its defaults 50/100). */
  scheduler?: { qps?: number; burst?: number };
  /** Number of KWOK fake Nodes in `cluster` mode. @default 1 */
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
   * Starts the processes and waits until the API server is ready.
   * @throws {Error} naming the failing process and the folder with its logs.
   */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const mode = options.mode ?? "apiserver";
    const dir = await Deno.makeTempDir({ prefix: "postgres-operator-testenv-" });
    const [etcdPort, peerPort, securePort] = await freePorts(3);
    const ca = await createCertificate({ commonName: "testenv-ca", isCA: true });
    const serving = await createCertificate({
      commonName: "kube-apiserver",
      issuer: ca,
      ipAddresses: ["127.0.0.1", "10.96.0.1"],
      dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
    });
    const admin = await createCertificate({
      commonName: "admin",
      organizations: ["system:masters"],
      issuer: ca,
    });
    const serviceAccountKey = await createKeyPair();
    const files = {
      "ca.crt": ca.certPem,
      "apiserver.crt": serving.certPem,
      "apiserver.key": serving.keyPem,
      "sa.key": serviceAccountKey.privatePem,
      "sa.pub": serviceAccountKey.publicPem,
    };
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    const server = `https://127.0.0.1:${securePort}`;
    const connection: Connection = {
      server,
      caPem: ca.certPem,
      certPem: admin.certPem,
      keyPem: admin.keyPem,
      namespace: "default",
      source: "testenv",
    };
    const kubeconfigPath = `${dir}/kubeconfig`;
    await Deno.writeTextFile(kubeconfigPath, kubeconfigYaml(connection));
    const plane = new ControlPlane(dir, mode, server, connection, kubeconfigPath);
    plane.#forgetInterrupt = onInterrupt(() => plane.stop());
    try {
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
      plane.#apiServerArgs = [
        `--etcd-servers=${etcdUrl}`,
        `--secure-port=${securePort}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--cert-dir=${dir}`,
        `--tls-cert-file=${dir}/apiserver.crt`,
        `--tls-private-key-file=${dir}/apiserver.key`,
        `--client-ca-file=${dir}/ca.crt`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${dir}/sa.pub`,
        `--service-account-signing-key-file=${dir}/sa.key`,
        "--service-cluster-ip-range=10.96.0.0/16",
        "--authorization-mode=RBAC",
        "--allow-privileged=true",
        "--disable-admission-plugins=ServiceAccount",
        "--profiling=false",
        ...(options.apiServerArgs ?? []),
      ];
      await plane.#startApiServer();
      // CRDs first: the garbage collector discovers resource types at start, and would
      // otherwise see the Database type only at its next 30-second rediscovery.
      if (options.installCRDs ?? true) await plane.installCRDs();
      if (mode === "cluster") await plane.#startClusterComponents(options);
      return plane;
    } catch (error) {
      plane.#forgetInterrupt();
      await plane.#stopProcesses();
      throw new Error(`Control plane failed to start; logs are in ${dir}: ${error}`, {
        cause: error,
      });
    }
  }

  /** An admin client without client-side rate limiting. */
  get client(): KubeClient {
    this.#client ??= new KubeClient(this.connection, { qps: 0, userAgent: "testenv" });
    return this.#client;
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

  /** The PIDs of every process still running. */
  get pids(): number[] {
    return this.#processes.map((p) => p.pid);
  }

  /** Stops every process and removes the temporary folder. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#forgetInterrupt();
      this.#client?.close();
      await this.#stopProcesses();
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

  async #startClusterComponents(options: ControlPlaneOptions): Promise<void> {
    const kcm = options.controllerManager ?? {};
    this.#spawn("kube-controller-manager", await binaryPath("kube-controller-manager"), [
      `--kubeconfig=${this.kubeconfigPath}`,
      "--controllers=garbage-collector-controller,statefulset-controller," +
      "persistentvolume-binder-controller,persistentvolume-expander-controller," +
      "namespace-controller,node-lifecycle-controller,persistentvolume-protection-controller," +
      "persistentvolumeclaim-protection-controller",
      "--enable-hostpath-provisioner=true",
      "--leader-elect=false",
      "--use-service-account-credentials=false",
      "--secure-port=0",
      `--kube-api-qps=${kcm.qps ?? 20}`,
      `--kube-api-burst=${kcm.burst ?? 30}`,
      `--concurrent-statefulset-syncs=${kcm.statefulSetSyncs ?? 5}`,
    ]);
    this.#spawn("kube-scheduler", await binaryPath("kube-scheduler"), [
      `--kubeconfig=${this.kubeconfigPath}`,
      "--leader-elect=false",
      "--secure-port=0",
      `--kube-api-qps=${options.scheduler?.qps ?? 50}`,
      `--kube-api-burst=${options.scheduler?.burst ?? 100}`,
    ]);
    const stages = `${await kwokModuleDir()}/kustomize/stage`;
    // No --server-address: KWOK's server (logs, exec, metrics) is unused here, and starting it
    // builds a CEL environment that races with the first Node's stage (kwok v0.8.0 dies with
    // "fatal error: concurrent map writes" in easycel, about one start in fifteen here).
    this.#spawn("kwok", await binaryPath("kwok"), [
      `--kubeconfig=${this.kubeconfigPath}`,
      "--manage-all-nodes=true",
      "--cidr=10.244.0.0/16",
      // Heartbeats through a node Lease, as kwokctl sets up: without them the node lifecycle
      // controller marks the node, and every pod on it, NotReady after its grace period.
      "--node-lease-duration-seconds=40",
      `--config=${stages}/node/fast/node-initialize.yaml`,
      `--config=${stages}/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml`,
      `--config=${stages}/pod/fast/pod-ready.yaml`,
      `--config=${stages}/pod/fast/pod-complete.yaml`,
      `--config=${stages}/pod/fast/pod-delete.yaml`,
    ]);
    for (let i = 0; i < (options.nodes ?? 1); i++) {
      await this.client.request("POST", "/api/v1/nodes", { body: fakeNode(`kwok-node-${i}`) });
    }
    await this.client.request("POST", "/apis/storage.k8s.io/v1/storageclasses", {
      body: {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: {
          name: "standard",
          annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: "kubernetes.io/host-path",
        reclaimPolicy: "Delete",
        volumeBindingMode: "WaitForFirstConsumer",
      },
    });
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

function fakeNode(name: string): Record<string, unknown> {
  const resources = { cpu: "256", memory: "1Ti", pods: "5000" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok" },
    },
    status: { allocatable: resources, capacity: resources, nodeInfo: { kubeletVersion: "fake" } },
  };
}

function kubeconfigYaml(c: Connection): string {
  // JSON is valid YAML, and needs no YAML writer.
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{
        name: "testenv",
        cluster: { server: c.server, "certificate-authority-data": btoa(c.caPem!) },
      }],
      users: [{
        name: "admin",
        user: { "client-certificate-data": btoa(c.certPem!), "client-key-data": btoa(c.keyPem!) },
      }],
      contexts: [{ name: "testenv", context: { cluster: "testenv", user: "admin" } }],
      "current-context": "testenv",
    },
    null,
    2,
  );
}

/** Distinct free loopback TCP ports. */
export async function freePorts(count: number): Promise<number[]> {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return await Promise.resolve(ports);
}

async function fetchOk(url: string, client?: Deno.HttpClient): Promise<boolean> {
  try {
    const response = await fetch(url, client ? { client } : {});
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  process?: ManagedProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  process?.status.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (await check()) return;
    if (exited) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const detail = process ? `\n--- last lines of ${process.logPath}:\n${process.tail()}` : "";
  throw new Error(`${what} ${exited ? "exited" : "not ready"} after waiting${detail}`);
}
