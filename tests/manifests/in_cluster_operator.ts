/**
 * Runs the operator out of cluster as if it were in a pod: `KUBERNETES_SERVICE_HOST/PORT` point
 * at the test API server, `KUBECONFIG` is unset, no `--kubeconfig` is passed, and the files the
 * operator reads at `/var/run/secrets/kubernetes.io/serviceaccount` (token, ca.crt, namespace)
 * are a ServiceAccount's, so every request it sends is authorized by that ServiceAccount's RBAC.
 *
 * The operator keeps reading the real in-cluster path: no flag or environment variable exists to
 * move it. Instead the process runs in a private mount namespace (`unshare --mount`) in which a
 * temporary folder is bind-mounted over `/var/run`; nothing outside that process sees it. This
 * needs root (CI runs as root) or, elsewhere, unprivileged user namespaces (`--map-root-user`).
 *
 * @module
 */
import { freePorts, ManagedProcess } from "../../tools/testenv/mod.ts";
import { waitUntilReady } from "../../tools/testenv/operator.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const SERVICE_ACCOUNT = "secrets/kubernetes.io/serviceaccount";

/** What the pod would get from its ServiceAccount and the kubelet. */
export interface InClusterOptions {
  /** API server URL, such as `https://127.0.0.1:6443`. */
  server: string;
  /** A token of the ServiceAccount (TokenRequest). */
  token: string;
  /** PEM of the API server's CA. */
  caPem: string;
  /** The ServiceAccount's namespace. */
  namespace: string;
  /** `POD_NAME`: the Lease holder identity. */
  podName: string;
  /** Folder for the log file. */
  logDir: string;
  /** Flags added after the probe and metrics addresses. */
  args: string[];
}

/** A running in-cluster-style operator process. */
export interface InClusterOperator extends AsyncDisposable {
  process: ManagedProcess;
  healthPort: number;
  metricsPort: number;
  /** Resolves once `/readyz` answers 200. */
  ready(timeoutMs?: number): Promise<void>;
}

/** Starts `deno run -P=operator main.ts` as described in the module documentation. */
export async function startInClusterOperator(o: InClusterOptions): Promise<InClusterOperator> {
  const root = await Deno.makeTempDir({ prefix: "postgres-operator-run-" });
  await Deno.mkdir(`${root}/${SERVICE_ACCOUNT}`, { recursive: true });
  await Deno.writeTextFile(`${root}/${SERVICE_ACCOUNT}/token`, o.token);
  await Deno.writeTextFile(`${root}/${SERVICE_ACCOUNT}/ca.crt`, o.caPem);
  await Deno.writeTextFile(`${root}/${SERVICE_ACCOUNT}/namespace`, o.namespace);
  const [healthPort = 0, metricsPort = 0] = await freePorts(2);
  const url = new URL(o.server);
  // `exec` keeps the PID, so stopping the process signals the operator itself.
  const script = 'mount --bind "$1" /var/run && shift && unset KUBECONFIG && exec "$@"';
  const start = () =>
    ManagedProcess.start({
      name: "operator-in-cluster",
      command: "unshare",
      args: [
        ...(Deno.uid() === 0 ? [] : ["--map-root-user"]),
        "--mount",
        "sh",
        "-c",
        script,
        "sh",
        root,
        Deno.execPath(),
        "run",
        `--config=${CONFIG}`,
        "-P=operator",
        MAIN,
        `--health-probe-bind-address=127.0.0.1:${healthPort}`,
        `--metrics-bind-address=127.0.0.1:${metricsPort}`,
        "--log-format=json",
        ...o.args,
      ],
      logDir: o.logDir,
      env: {
        KUBERNETES_SERVICE_HOST: url.hostname,
        KUBERNETES_SERVICE_PORT: url.port,
        POD_NAME: o.podName,
        POD_NAMESPACE: o.namespace,
        NO_COLOR: "1",
      },
    });
  let process: ManagedProcess;
  try {
    process = start();
  } catch (error) {
    await Deno.remove(root, { recursive: true });
    throw error;
  }
  const ready = (timeoutMs = 60_000) => waitUntilReady(process, healthPort, timeoutMs);
  return {
    process,
    healthPort,
    metricsPort,
    ready,
    [Symbol.asyncDispose]: async () => {
      await process.stop(10_000);
      await Deno.remove(root, { recursive: true });
    },
  };
}
