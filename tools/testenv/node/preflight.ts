/**
 * Whether this machine can run a real node: root, cgroups, and the Debian packages the node
 * uses (`.ci/run` installs them). The answer is one line, for a test run to fail with.
 *
 * @module
 */
import { cgroupMounts } from "./cgroups.ts";

/** The variable that leaves real-node tests out on machines that cannot run them. */
export const NO_REAL_NODE_ENV = "POSTGRES_OPERATOR_NO_REAL_NODE";

const COMMANDS: Record<string, string> = {
  containerd: "containerd",
  ctr: "containerd",
  "containerd-shim-runc-v2": "containerd",
  runc: "runc",
  mmdebstrap: "mmdebstrap",
  ip: "iproute2",
  nsenter: "util-linux",
  iptables: "iptables",
  tar: "tar",
};
const CNI_PLUGINS = ["bridge", "host-local", "loopback", "portmap"];

/** What is missing for a real node, in one line, or `undefined` when nothing is. */
export function missingForRealNode(): string | undefined {
  const missing: string[] = [];
  if (Deno.uid() !== 0) missing.push("root");
  if (cgroupMounts().length === 0) missing.push("mounted cgroups");
  const path = (Deno.env.get("PATH") ?? "").split(":").concat("/usr/sbin", "/sbin");
  const packages = new Set<string>();
  for (const [command, pkg] of Object.entries(COMMANDS)) {
    if (!path.some((dir) => isFile(`${dir}/${command}`))) packages.add(pkg);
  }
  if (!CNI_PLUGINS.every((plugin) => isFile(`/usr/lib/cni/${plugin}`))) {
    packages.add("containernetworking-plugins");
  }
  if (packages.size) missing.push(`the Debian packages ${[...packages].join(", ")}`);
  return missing.length ? missing.join(", ") : undefined;
}

/**
 * @throws {Error} (one line) naming what is missing and the variable that opts out.
 */
export function assertRealNodeSupported(): void {
  const missing = missingForRealNode();
  if (missing) {
    throw new Error(
      `A real node needs ${missing}; install them (see .ci/run) or set ${NO_REAL_NODE_ENV}=1 ` +
        "to leave the real-node tests out",
    );
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
