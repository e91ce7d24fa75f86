/**
 * What a kubelet, containerd and CNI write outside the folders they are given, and its removal:
 * a snapshot of a few host paths before the node starts, and after it stops, the removal of
 * whatever appeared in them since (network namespaces are deleted with `ip netns`, mounts under
 * the cluster's folder are unmounted first).
 *
 * @module
 */
import { sh } from "../command.ts";

/** Host paths the node's components write to whatever their configuration says. */
const WATCHED = [
  "/var/lib/kubelet", // device-plugins, always there
  "/var/log/containers", // the kubelet's symlinks to pod logs
  "/var/log/pods",
  "/var/lib/cni", // libcni's result cache
  "/run/containerd", // shim sockets
  "/var/run/netns", // the pods' network namespaces (containerd names them cni-…)
];

/** The entries of each watched path before the node started; `null`: the path did not exist. */
export type HostPathSnapshot = Map<string, Set<string> | null>;

/** Records what the watched paths hold now. */
export function snapshotHostPaths(): HostPathSnapshot {
  return new Map(WATCHED.map((path) => [path, entries(path)]));
}

/** Removes what appeared in the watched paths since `before` (and paths that did not exist). */
export async function restoreHostPaths(before: HostPathSnapshot): Promise<void> {
  for (const [path, had] of before) {
    const now = entries(path);
    if (now === null) continue;
    for (const name of now) {
      if (had?.has(name)) continue;
      if (path === "/var/run/netns") {
        await sh("ip", ["netns", "delete", name], { allowFailure: true });
      } else {
        await Deno.remove(`${path}/${name}`, { recursive: true }).catch(() => {});
      }
    }
    if (had === null) await Deno.remove(path, { recursive: true }).catch(() => {});
  }
}

/** Unmounts everything mounted below `dir`, deepest first. */
export async function unmountBelow(dir: string): Promise<void> {
  const prefix = `${dir.replace(/\/$/, "")}/`;
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((line) => line.split(" ")[4]?.replace(/\\040/g, " "))
    .filter((point): point is string => !!point?.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) {
    const out = await sh("umount", [point], { allowFailure: true });
    if (out.code !== 0) await sh("umount", ["--lazy", point], { allowFailure: true });
  }
}

/** The mount points below `dir` (a check for tests: none should be left). */
export function mountsBelow(dir: string): string[] {
  const prefix = `${dir.replace(/\/$/, "")}/`;
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point.startsWith(prefix));
}

function entries(path: string): Set<string> | null {
  try {
    return new Set([...Deno.readDirSync(path)].map((entry) => entry.name));
  } catch {
    return null;
  }
}
