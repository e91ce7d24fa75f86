/**
 * Finds out how to reach the API server, in controller-runtime's order: an explicit
 * `--kubeconfig` path, `$KUBECONFIG`, the in-cluster service account, then `~/.kube/config`.
 *
 * Supports what kind, envtest and in-cluster pods use: client certificates, bearer tokens and
 * token files, inline or file-referenced CA bundles. Exec credential plugins are refused with a
 * clear error: running them would need `--allow-run`, which the operator binary does not hold.
 *
 * @module
 */
import { parse as parseYaml } from "yaml";

/** Everything a client needs to open authenticated connections to one API server. */
export interface Connection {
  /** Base URL, such as `https://127.0.0.1:6443`. */
  server: string;
  /** PEM bundle to trust instead of the system roots. */
  caPem?: string;
  /** PEM client certificate and key (mutual TLS). */
  certPem?: string;
  keyPem?: string;
  /** Static bearer token. */
  token?: string;
  /** File holding a bearer token; re-read because projected tokens rotate. */
  tokenFile?: string;
  /** Default namespace of the context, or of the pod when in-cluster. */
  namespace: string;
  /** Where this came from, for log lines. */
  source: string;
}

/** The kubeconfig or in-cluster configuration is missing or unusable. Not retryable. */
export class KubeConfigError extends Error {
  override name = "KubeConfigError";
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Options for {@linkcode loadConnection}. */
export interface LoadOptions {
  /** Explicit kubeconfig path (the `--kubeconfig` flag). */
  kubeconfig?: string;
  /** Context to use instead of the file's current-context. */
  context?: string;
}

/**
 * Resolves the connection to use.
 * @throws {KubeConfigError} when no configuration is found or it cannot be used.
 */
export async function loadConnection(options: LoadOptions = {}): Promise<Connection> {
  if (options.kubeconfig) return await fromKubeconfigFile(options.kubeconfig, options.context);
  const env = Deno.env.get("KUBECONFIG");
  if (env) {
    const first = env.split(":").find((p) => p.length > 0);
    if (first) return await fromKubeconfigFile(first, options.context);
  }
  if (Deno.env.get("KUBERNETES_SERVICE_HOST")) return await inCluster();
  const home = Deno.env.get("HOME");
  if (home) {
    const path = `${home}/.kube/config`;
    if (await exists(path)) return await fromKubeconfigFile(path, options.context);
  }
  throw new KubeConfigError(
    "No kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config or run in a cluster",
  );
}

/** The in-cluster configuration from the pod's environment and service account files. */
export async function inCluster(dir = SERVICE_ACCOUNT_DIR): Promise<Connection> {
  const host = Deno.env.get("KUBERNETES_SERVICE_HOST");
  const port = Deno.env.get("KUBERNETES_SERVICE_PORT") ?? "443";
  if (!host) throw new KubeConfigError("KUBERNETES_SERVICE_HOST is not set");
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    caPem: await readText(`${dir}/ca.crt`),
    tokenFile: `${dir}/token`,
    namespace: (await readText(`${dir}/namespace`)).trim(),
    source: "in-cluster",
  };
}

interface Named<T> {
  name: string;
  [key: string]: unknown;
  value?: T;
}

/** Reads one kubeconfig file and resolves its context. */
export async function fromKubeconfigFile(path: string, context?: string): Promise<Connection> {
  const text = await readText(path);
  let doc: Record<string, unknown>;
  try {
    doc = parseYaml(text) ?? {};
  } catch (error) {
    throw new KubeConfigError(`Kubeconfig ${path} is not valid YAML`, { cause: error });
  }
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  const contextName = context ?? (doc["current-context"] as string | undefined);
  if (!contextName) throw new KubeConfigError(`Kubeconfig ${path} has no current-context`);
  const ctx = pick(doc, "contexts", "context", contextName, path);
  const cluster = pick(doc, "clusters", "cluster", String(ctx.cluster ?? ""), path);
  const user = ctx.user ? pick(doc, "users", "user", String(ctx.user), path) : {};
  if (!cluster.server) throw new KubeConfigError(`Cluster of context ${contextName} has no server`);
  if (user.exec || user["auth-provider"]) {
    throw new KubeConfigError(
      `User of context ${contextName} needs an exec or auth-provider plugin, which this operator does not run; use a token or client certificate`,
    );
  }
  const resolve = (p: string) => (p.startsWith("/") ? p : `${dir}/${p}`);
  const material = async (data: unknown, file: unknown) =>
    typeof data === "string"
      ? atob(data)
      : typeof file === "string"
      ? await readText(resolve(file))
      : undefined;
  return dropUndefined({
    server: String(cluster.server).replace(/\/+$/, ""),
    caPem: await material(cluster["certificate-authority-data"], cluster["certificate-authority"]),
    certPem: await material(user["client-certificate-data"], user["client-certificate"]),
    keyPem: await material(user["client-key-data"], user["client-key"]),
    token: typeof user.token === "string" ? user.token : undefined,
    tokenFile: typeof user.tokenFile === "string" ? resolve(user.tokenFile) : undefined,
    namespace: typeof ctx.namespace === "string" ? ctx.namespace : "default",
    source: `${path} (context ${contextName})`,
  });
}

function pick(
  doc: Record<string, unknown>,
  list: string,
  field: string,
  name: string,
  path: string,
): Record<string, unknown> {
  const entries = (doc[list] ?? []) as Named<unknown>[];
  const entry = entries.find((e) => e.name === name);
  const value = entry?.[field];
  if (!value || typeof value !== "object") {
    throw new KubeConfigError(`Kubeconfig ${path} has no ${field} named "${name}"`);
  }
  return value as Record<string, unknown>;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new KubeConfigError(`Cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
