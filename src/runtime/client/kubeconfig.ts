/**
 * Finds out how to reach the API server, in controller-runtime's order: an explicit
 * `--kubeconfig` path, `$KUBECONFIG` (several files merged as client-go merges them), the
 * in-cluster service account, then `~/.kube/config`.
 *
 * Supports what kubectl users have: client certificates, bearer tokens and token files, inline or
 * file-referenced CA bundles, exec credential plugins (`client.authentication.k8s.io/v1` and
 * `v1beta1`), `tls-server-name` and `proxy-url`. What it cannot honour it refuses with one line
 * saying what to do instead: `insecure-skip-tls-verify`, legacy `auth-provider` entries (naming
 * the exec plugin that replaces each), basic auth and impersonation.
 *
 * @module
 */
import type { ExecConfig } from "./exec_credential.ts";
import { ExecConfigError, parseExecConfig } from "./kubeconfig_exec.ts";
import {
  type Entry,
  KubeconfigFileError,
  type MergedKubeconfig,
  readKubeconfigs,
} from "./kubeconfig_files.ts";

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
  /** File holding a bearer token; re-read because projected tokens rotate. Wins over `token`. */
  tokenFile?: string;
  /** Exec credential plugin that supplies a token or client certificate. */
  exec?: ExecConfig;
  /** Name the server's certificate must carry, when it differs from the server's host. */
  tlsServerName?: string;
  /** HTTP(S) or SOCKS5 proxy for every connection to the server. */
  proxyUrl?: string;
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
  if (options.kubeconfig) return await fromKubeconfigFiles([options.kubeconfig], options.context);
  const env = Deno.env.get("KUBECONFIG");
  const paths = (env ?? "").split(":").filter((p) => p.length > 0);
  if (paths.length > 0) {
    return await fromKubeconfigFiles(paths, options.context, { skipMissing: true });
  }
  if (Deno.env.get("KUBERNETES_SERVICE_HOST")) return await inCluster();
  const home = Deno.env.get("HOME");
  if (home) {
    const path = `${home}/.kube/config`;
    if (await exists(path)) return await fromKubeconfigFiles([path], options.context);
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

/** Reads one kubeconfig file and resolves its context. */
export function fromKubeconfigFile(path: string, context?: string): Promise<Connection> {
  return fromKubeconfigFiles([path], context);
}

/**
 * Reads kubeconfig files, merges them (the first file wins each name and the current-context),
 * and resolves the context.
 * @throws {KubeConfigError} when the files cannot be read or the context cannot be used.
 */
export async function fromKubeconfigFiles(
  paths: string[],
  context?: string,
  options: { skipMissing?: boolean } = {},
): Promise<Connection> {
  let merged: MergedKubeconfig;
  try {
    merged = await readKubeconfigs(paths, options);
  } catch (error) {
    if (error instanceof KubeconfigFileError) {
      throw new KubeConfigError(error.message, { cause: error });
    }
    throw error;
  }
  const where = paths.join(":");
  if (merged.files.length === 0) throw new KubeConfigError(`No kubeconfig file exists in ${where}`);
  return await resolveContext(merged, context, where);
}

async function resolveContext(
  merged: MergedKubeconfig,
  context: string | undefined,
  where: string,
): Promise<Connection> {
  const contextName = context ?? merged.currentContext;
  if (!contextName) throw new KubeConfigError(`Kubeconfig ${where} has no current-context`);
  const ctx = pick(merged.contexts, "context", contextName, where);
  const clusterName = String(ctx.value.cluster ?? "");
  const cluster = pick(merged.clusters, "cluster", clusterName, where).value;
  const userName = typeof ctx.value.user === "string" ? ctx.value.user : "";
  const user = userName ? pick(merged.users, "user", userName, where).value : {};
  if (!cluster.server) throw new KubeConfigError(`Cluster ${clusterName} has no server`);
  checkCluster(clusterName, cluster);
  checkUser(userName, user);
  const caPem = await material(
    cluster["certificate-authority-data"],
    cluster["certificate-authority"],
  );
  const connection: Connection = {
    server: String(cluster.server).replace(/\/+$/, ""),
    namespace: typeof ctx.value.namespace === "string" && ctx.value.namespace
      ? ctx.value.namespace
      : "default",
    source: `${ctx.file} (context ${contextName})`,
  };
  const optional: Partial<Connection> = {
    caPem,
    certPem: await material(user["client-certificate-data"], user["client-certificate"]),
    keyPem: await material(user["client-key-data"], user["client-key"]),
    token: typeof user.token === "string" && user.token ? user.token : undefined,
    tokenFile: typeof user.tokenFile === "string" && user.tokenFile ? user.tokenFile : undefined,
    tlsServerName: stringField(cluster, "tls-server-name"),
    proxyUrl: stringField(cluster, "proxy-url"),
    exec: user.exec == null ? undefined : execConfig(userName, user.exec, cluster, caPem),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(connection, { [key]: value });
  }
  return connection;
}

function execConfig(
  userName: string,
  raw: unknown,
  cluster: Record<string, unknown>,
  caPem: string | undefined,
): ExecConfig {
  try {
    return parseExecConfig(userName, raw, connectionInfo(cluster, caPem));
  } catch (error) {
    if (error instanceof ExecConfigError) {
      throw new KubeConfigError(error.message, { cause: error });
    }
    throw error;
  }
}

/** What a plugin with `provideClusterInfo` is told about the cluster. */
function connectionInfo(cluster: Record<string, unknown>, caPem: string | undefined) {
  const extensions = Array.isArray(cluster.extensions) ? cluster.extensions : [];
  const config = extensions.find((e) => e?.name === "client.authentication.k8s.io/exec")
    ?.extension;
  const info: Record<string, unknown> = { server: String(cluster.server) };
  if (cluster["tls-server-name"]) info["tls-server-name"] = cluster["tls-server-name"];
  if (cluster["insecure-skip-tls-verify"]) info["insecure-skip-tls-verify"] = true;
  if (caPem) info["certificate-authority-data"] = btoa(caPem);
  if (cluster["proxy-url"]) info["proxy-url"] = cluster["proxy-url"];
  if (config !== undefined) info.config = config;
  return info as { server: string };
}

function checkCluster(name: string, cluster: Record<string, unknown>): void {
  if (cluster["insecure-skip-tls-verify"] === true) {
    throw new KubeConfigError(
      `Cluster ${name} sets insecure-skip-tls-verify, which this operator refuses (its token would go to whoever answers); give the cluster's certificate-authority instead`,
    );
  }
  const proxy = stringField(cluster, "proxy-url");
  if (proxy !== undefined) {
    const scheme = URL.canParse(proxy) ? new URL(proxy).protocol : "";
    if (!["http:", "https:", "socks5:", "socks5h:"].includes(scheme)) {
      throw new KubeConfigError(
        `Cluster ${name} has proxy-url "${proxy}"; only http, https and socks5 proxies are supported`,
      );
    }
  }
}

/** The exec plugin that replaces each legacy auth provider. */
const AUTH_PROVIDER_REPLACEMENTS: Record<string, string> = {
  gcp:
    "gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin, then gcloud container clusters get-credentials)",
  azure: "kubelogin (kubelogin convert-kubeconfig -l azurecli)",
  oidc: "kubectl oidc-login (int128/kubelogin: kubectl oidc-login setup)",
};

function checkUser(name: string, user: Record<string, unknown>): void {
  const provider = user["auth-provider"] as { name?: unknown } | undefined;
  if (provider) {
    const kind = String(provider.name ?? "");
    const replacement = AUTH_PROVIDER_REPLACEMENTS[kind] ??
      "the exec credential plugin your provider documents";
    throw new KubeConfigError(
      `User ${name} uses the legacy auth-provider "${kind}", which kubectl and this operator no longer run; switch the user to the exec plugin ${replacement}`,
    );
  }
  if (user.username !== undefined || user.password !== undefined) {
    throw new KubeConfigError(
      `User ${name} uses basic authentication, which Kubernetes removed in 1.19; use a token, a client certificate or an exec plugin`,
    );
  }
  for (const key of ["as", "as-uid", "as-groups", "as-user-extra"]) {
    if (user[key] !== undefined) {
      throw new KubeConfigError(
        `User ${name} impersonates (${key}), which this operator does not do; give it a user that holds the operator's own permissions`,
      );
    }
  }
}

function pick(entries: Map<string, Entry>, field: string, name: string, where: string): Entry {
  const entry = entries.get(name);
  if (!entry) throw new KubeConfigError(`Kubeconfig ${where} has no ${field} named "${name}"`);
  return entry;
}

function stringField(value: Record<string, unknown>, key: string): string | undefined {
  const field = value[key];
  return typeof field === "string" && field ? field : undefined;
}

async function material(data: unknown, file: unknown): Promise<string | undefined> {
  if (typeof data === "string" && data) {
    try {
      return new TextDecoder().decode(Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
    } catch (error) {
      throw new KubeConfigError("Kubeconfig holds *-data that is not base64", { cause: error });
    }
  }
  return typeof file === "string" && file ? await readText(file) : undefined;
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
