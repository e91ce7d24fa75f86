/**
 * Finds the control-plane binaries the way controller-runtime's envtest does
 * (`TEST_ASSET_<NAME>`, then `$KUBEBUILDER_ASSETS/<name>`), and otherwise builds them with
 * `go build` from the pinned Go modules in `tools/controlplane/` into a cache folder outside the
 * repository, keyed by the pinned versions, so that only the first run pays for the build.
 *
 * @module
 */

/** Every binary the harness can start. */
export type BinaryName =
  | "etcd"
  | "kube-apiserver"
  | "kubectl"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kwok";

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
};

/** The pinned versions, read from the Go modules so they have one source. */
export function pinnedVersions(): { kubernetes: string; etcd: string; kwok: string } {
  const version = (module: string, path: string) => {
    const text = Deno.readTextFileSync(`${MODULES_DIR}${module}/go.mod`);
    const match = text.match(new RegExp(`${path.replaceAll(".", "\\.")} (v\\S+)`));
    if (!match?.[1]) throw new Error(`${module}/go.mod does not pin ${path}`);
    return match[1];
  };
  return {
    kubernetes: version("kubernetes", "k8s.io/kubernetes"),
    etcd: version("etcd", "go.etcd.io/etcd/server/v3"),
    kwok: version("kwok", "sigs.k8s.io/kwok"),
  };
}

/** The folder that holds binaries built for the pinned versions. */
export function cacheDir(): string {
  const v = pinnedVersions();
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/postgres-operator/kubernetes-${v.kubernetes}-etcd-${v.etcd}-kwok-${v.kwok}`;
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
  const path = `${cacheDir()}/${name}`;
  if (!isFile(path)) await build(name, path);
  return path;
}

/** Builds every binary that is not cached yet (the first CI run calls this up front). */
export async function ensureAll(names: BinaryName[] = Object.keys(SOURCES) as BinaryName[]) {
  for (const name of names) await binaryPath(name);
}

/** The on-disk folder of the pinned KWOK module, which holds its stage files. */
export async function kwokModuleDir(): Promise<string> {
  const out = await new Deno.Command("go", {
    args: ["list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok"],
    cwd: `${MODULES_DIR}kwok`,
    stderr: "inherit",
  }).output();
  const dir = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !dir) throw new Error("Cannot locate the sigs.k8s.io/kwok module");
  return dir;
}

async function build(name: BinaryName, path: string): Promise<void> {
  const { module, pkg } = SOURCES[name];
  await Deno.mkdir(cacheDir(), { recursive: true });
  const partial = `${path}.partial-${Deno.pid}`;
  const started = Date.now();
  console.error(`testenv: building ${name} from ${pkg} (first run only; can take minutes)…`);
  const out = await new Deno.Command("go", {
    args: ["build", "-trimpath", `-ldflags=${linkerFlags(module)}`, "-o", partial, pkg],
    cwd: `${MODULES_DIR}${module}`,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    await Deno.remove(partial).catch(() => {});
    const log = new TextDecoder().decode(out.stderr);
    throw new Error(`go build ${pkg} failed:\n${log}`);
  }
  // Rename last, so a concurrent or interrupted run never sees half a binary.
  await Deno.rename(partial, path);
  console.error(`testenv: built ${name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
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
