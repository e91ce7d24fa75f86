/**
 * A real node's container runtime: containerd (Debian's, with runc) in the node's network
 * namespace, with every path of its own under the cluster's folder, the CNI bridge of
 * `node_network.ts`, and the images imported from `tools/testenv/images` (no registry).
 *
 * @module
 */
import { binaryPath } from "../binaries.ts";
import { ensureImage, type ImageName, PAUSE_IMAGE } from "../images/images.ts";
import { ManagedProcess } from "../process.ts";
import { waitFor } from "../waiting.ts";
import { sh } from "../command.ts";
import { inNodeNetwork, type NodeNetwork } from "./node_network.ts";

/** Where one containerd keeps its state, under `dir`. */
export function containerdPaths(dir: string) {
  return {
    root: `${dir}/containerd/root`,
    state: `${dir}/containerd/state`,
    runcRoot: `${dir}/containerd/runc`,
    socket: `${dir}/containerd/containerd.sock`,
    config: `${dir}/containerd/config.toml`,
    cniConfDir: `${dir}/cni/net.d`,
    cniDataDir: `${dir}/cni/ipam`,
  };
}

/** Writes the configuration, starts `node`'s containerd and waits until it answers. */
export async function startContainerd(dir: string, node: NodeNetwork): Promise<ManagedProcess> {
  const paths = containerdPaths(dir);
  await Deno.mkdir(paths.cniConfDir, { recursive: true });
  await Deno.mkdir(paths.root.slice(0, paths.root.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(
    `${paths.cniConfDir}/10-pgop.conflist`,
    cniConfig(node, paths.cniDataDir),
  );
  await Deno.writeTextFile(paths.config, containerdConfig(paths));
  const [command, args] = inNodeNetwork(node, "containerd", ["--config", paths.config]);
  const process = ManagedProcess.start({ name: "containerd", command, args, logDir: dir });
  await waitFor("containerd", () => ctr(dir, ["version"], true), 30_000, process);
  return process;
}

/** Imports images into the node's `k8s.io` namespace (building them first if not cached). */
export async function importImages(dir: string, names: ImageName[]): Promise<void> {
  for (const name of ["pause", ...names.filter((n) => n !== "pause")] as ImageName[]) {
    const layout = await ensureImage(name);
    const { socket } = containerdPaths(dir);
    await sh("bash", [
      "-o",
      "pipefail",
      "-c",
      'tar -C "$1" -cf - . | ctr --address "$2" --namespace k8s.io images import -',
      "import",
      layout,
      socket,
    ]);
    // A registry pull also names the image by digest (`repo@sha256:…`), which is how a pod
    // that pins a digest finds it.
    const index = JSON.parse(await Deno.readTextFile(`${layout}/index.json`)) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    for (const manifest of index.manifests) {
      const named = manifest.annotations["io.containerd.image.name"]!;
      const repository = named.slice(0, named.lastIndexOf(":"));
      await sh("ctr", [
        "--address",
        socket,
        "--namespace",
        "k8s.io",
        "images",
        "tag",
        "--force",
        named,
        `${repository}@${manifest.digest}`,
      ]);
    }
  }
}

/**
 * Stops and removes every pod sandbox through the CRI (as the kubelet would: containers
 * killed, network torn down, `/dev/shm` unmounted, network namespace removed).
 */
export async function removeAllPods(dir: string): Promise<void> {
  const { socket } = containerdPaths(dir);
  await sh(await binaryPath("crictl"), [
    `--runtime-endpoint=unix://${socket}`,
    "--timeout=60s",
    "rmp",
    "--all",
    "--force",
  ], { allowFailure: true });
}

/**
 * Kills the containerd shims whose command line names `socket` (they outlive containerd by
 * design): one node's socket, or any part of it that several share.
 */
export function killShims(socket: string): void {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let cmdline = "";
    try {
      cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
    } catch {
      continue;
    }
    if (cmdline.startsWith("/usr/bin/containerd-shim") && cmdline.includes(socket)) {
      try {
        Deno.kill(Number(entry.name), "SIGKILL");
      } catch {
        // Gone already.
      }
    }
  }
}

async function ctr(dir: string, args: string[], probe = false): Promise<boolean> {
  const { socket } = containerdPaths(dir);
  const out = await sh("ctr", ["--address", socket, ...args], { allowFailure: probe });
  return out.code === 0;
}

function containerdConfig(p: ReturnType<typeof containerdPaths>): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by the postgres-operator test harness; every path is this cluster's own.
version = 2
root = "${p.root}"
state = "${p.state}"
# Plugins with folders outside root and state, or nothing to do here.
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "${p.socket}"

[ttrpc]
  address = "${p.socket}.ttrpc"

[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  # A sandbox's negative oom_score_adj needs CAP_SYS_RESOURCE, which this host does not grant.
  restrict_oom_score_adj = true

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "${p.runcRoot}"

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${p.cniConfDir}"
  max_conf_num = 1
`;
}

/** A bridge on the pod subnet; no masquerading (nothing leaves the node's namespace). */
function cniConfig(node: NodeNetwork, ipamDataDir: string): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "pgop",
      plugins: [
        {
          type: "bridge",
          bridge: node.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: node.podSubnet, gateway: node.podGateway }]],
            routes: [{ dst: "0.0.0.0/0" }],
            dataDir: ipamDataDir,
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}
