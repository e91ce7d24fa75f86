/**
 * Finds the control-plane and node binaries the way controller-runtime's envtest does
 * (`TEST_ASSET_<NAME>`, then `$KUBEBUILDER_ASSETS/<name>`), and otherwise builds them with
 * `go build` from the pinned Go modules in `tools/controlplane/` into a cache folder outside the
 * repository, keyed by the pinned versions, so that only the first run pays for the build.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** Every binary the harness can start. */
export type BinaryName =
  | "etcd"
  | "kube-apiserver"
  | "kubectl"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kwok"
  | "kubelet"
  | "kube-proxy"
  | "coredns"
  | "crictl"
  | "metrics-server"
  | "pause"
  | "helm"
  | "promtool"
  | "versitygw"
  | "postgres-operator-peer";

const MODULES_DIR = new URL("../controlplane/", import.meta.url).pathname;

/** Which Go module builds which binary, from which package. */
const SOURCES: Record<BinaryName, { module: string; pkg: string }> = {
  "etcd": { module: "etcd", pkg: "go.etcd.io/etcd/server/v3" },
  "kube-apiserver": { module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kube-apiserver" },
  "kubectl": { module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kubectl" },
  "kube-controller-manager": {
    module: "kubernetes",
    pkg: "k8s.io/kubernetes/cmd/kube-controller-manager",
  },
  "kube-scheduler": { module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kube-scheduler" },
  "kwok": { module: "kwok", pkg: "sigs.k8s.io/kwok/cmd/kwok" },
  "kubelet": { module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kubelet" },
  "kube-proxy": { module: "kubernetes", pkg: "k8s.io/kubernetes/cmd/kube-proxy" },
  "coredns": { module: "coredns", pkg: "github.com/coredns/coredns" },
  "crictl": { module: "critools", pkg: "sigs.k8s.io/cri-tools/cmd/crictl" },
  "metrics-server": {
    module: "metricsserver",
    pkg: "sigs.k8s.io/metrics-server/cmd/metrics-server",
  },
  "pause": { module: "pause", pkg: "." },
  "helm": { module: "helm", pkg: "helm.sh/helm/v3/cmd/helm" },
  "promtool": { module: "promtool", pkg: "github.com/prometheus/prometheus/cmd/promtool" },
  // The S3 object store of `--object-store` (Apache-2.0; POSIX gateway).
  "versitygw": { module: "versitygw", pkg: "github.com/versity/versitygw/cmd/versitygw" },
  // The controller-runtime operator that `deno task bench:peer` compares ours with.
  "postgres-operator-peer": { module: "peer", pkg: "." },
};

/** Modules whose program we wrote: cached under a digest of their sources, not a version. */
const OWN_MODULES = new Set(["pause", "peer"]);

/** The Go module each folder pins, for the folder's cache key. */
const PINNED: Record<string, string> = {
  kubernetes: "k8s.io/kubernetes",
  etcd: "go.etcd.io/etcd/server/v3",
  kwok: "sigs.k8s.io/kwok",
  coredns: "github.com/coredns/coredns",
  critools: "sigs.k8s.io/cri-tools",
  metricsserver: "sigs.k8s.io/metrics-server",
  helm: "helm.sh/helm/v3",
  promtool: "github.com/prometheus/prometheus",
  versitygw: "github.com/versity/versitygw",
};

/** The version a folder of `tools/controlplane/` pins, read from its go.mod (one source). */
export function pinnedVersion(module: string): string {
  const path = PINNED[module];
  if (!path) throw new Error(`tools/controlplane/${module} is not a known module`);
  const text = Deno.readTextFileSync(`${MODULES_DIR}${module}/go.mod`);
  const match = text.match(new RegExp(`${path.replaceAll(".", "\\.")} (v\\S+)`));
  if (!match?.[1]) throw new Error(`${module}/go.mod does not pin ${path}`);
  return match[1];
}

/** The pinned versions of the control plane, read from the Go modules so they have one source. */
export function pinnedVersions(): { kubernetes: string; etcd: string; kwok: string } {
  return {
    kubernetes: pinnedVersion("kubernetes"),
    etcd: pinnedVersion("etcd"),
    kwok: pinnedVersion("kwok"),
  };
}

/** The root of this project's caches (binaries and images), outside the repository. */
export function cacheRoot(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/postgres-operator`;
}

/** The folder that holds the control-plane binaries built for the pinned versions. */
export function cacheDir(): string {
  const v = pinnedVersions();
  return `${cacheRoot()}/kubernetes-${v.kubernetes}-etcd-${v.etcd}-kwok-${v.kwok}`;
}

/** The modules whose binaries share the folder keyed by all three versions ({@linkcode cacheDir}). */
const CONTROL_PLANE_MODULES = new Set(["kubernetes", "etcd", "kwok"]);

/** Where a binary is cached: other tools get a folder keyed by their own module's version. */
function cachedPath(name: BinaryName): string {
  const { module } = SOURCES[name];
  if (OWN_MODULES.has(module)) return `${cacheRoot()}/${module}-${sourceDigest(module)}/${name}`;
  if (!CONTROL_PLANE_MODULES.has(module)) {
    return `${cacheRoot()}/${module}-${pinnedVersion(module)}/${name}`;
  }
  return `${cacheDir()}/${name}`;
}

/**
 * A digest of a module folder's go.mod, go.sum and Go files (names and contents), so any edit
 * to our own programs builds them anew.
 */
export function sourceDigest(module: string): string {
  const dir = `${MODULES_DIR}${module}/`;
  const files = [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && (e.name.endsWith(".go") || /^go\.(mod|sum)$/.test(e.name)))
    .map((e) => e.name).sort();
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${file}\0`).update(Deno.readFileSync(dir + file));
  return hash.digest("hex").slice(0, 16);
}

/**
 * The path of a runnable binary, building it first if no configured or cached one exists.
 * @throws {Error} when `go build` fails; its output is in the error message.
 */
export async function binaryPath(name: BinaryName): Promise<string> {
  const explicit = Deno.env.get(`TEST_ASSET_${name.toUpperCase().replaceAll("-", "_")}`);
  if (explicit) return explicit;
  const assets = Deno.env.get("KUBEBUILDER_ASSETS");
  if (assets && isFile(`${assets}/${name}`)) return `${assets}/${name}`;
  const path = cachedPath(name);
  if (!isFile(path)) await build(name, path);
  return path;
}

/** Builds every binary that is not cached yet (the first CI run calls this up front). */
export async function ensureAll(names: BinaryName[] = Object.keys(SOURCES) as BinaryName[]) {
  for (const name of names) await binaryPath(name);
}

/** The on-disk folder of the pinned KWOK module, which holds its stage files. */
export async function kwokModuleDir(): Promise<string> {
  const out = await go("KWOK's stage files", {
    args: ["list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok"],
    cwd: `${MODULES_DIR}kwok`,
    stderr: "inherit",
  });
  const dir = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !dir) throw new Error("Cannot locate the sigs.k8s.io/kwok module");
  return dir;
}

async function build(name: BinaryName, path: string): Promise<void> {
  const { module, pkg } = SOURCES[name];
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  const partial = `${path}.partial-${Deno.pid}`;
  const started = Date.now();
  await go(name, { args: ["version"], stdout: "null", stderr: "null" });
  console.error(`testenv: building ${name} from ${pkg} (first run only; can take minutes)…`);
  const out = await go(name, {
    args: ["build", "-trimpath", `-ldflags=${linkerFlags(module)}`, "-o", partial, pkg],
    cwd: `${MODULES_DIR}${module}`,
    // Static, so the binary runs alone in an image (pause) or on any host.
    env: { CGO_ENABLED: "0" },
    stdout: "piped",
    stderr: "piped",
  });
  if (!out.success) {
    await Deno.remove(partial).catch(() => {});
    const log = new TextDecoder().decode(out.stderr);
    throw new Error(`go build ${pkg} failed:\n${log}`);
  }
  // Rename last, so a concurrent or interrupted run never sees half a binary.
  await Deno.rename(partial, path);
  console.error(`testenv: built ${name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * Runs `go`; without Go on PATH, fails with one line saying what needs it and how to go on.
 * @throws {Error} naming `what` when `go` is not installed.
 */
async function go(what: string, options: Deno.CommandOptions): Promise<Deno.CommandOutput> {
  try {
    return await new Deno.Command("go", options).output();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new Error(
      `Go 1.26 is needed to build ${what} on first use (cached afterwards), and \`go\` is not ` +
        "on PATH: install it from https://go.dev/dl, or point TEST_ASSET_<NAME> or " +
        "KUBEBUILDER_ASSETS at prebuilt binaries",
    );
  }
}

/** Stamps Kubernetes binaries with their release, so `kubectl version` tells the truth. */
function linkerFlags(module: string): string {
  if (module !== "kubernetes") return "-s -w";
  const version = pinnedVersions().kubernetes;
  return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]
    .map((pkg) => `-X ${pkg}.gitVersion=${version}`)
    .concat("-s -w").join(" ");
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
