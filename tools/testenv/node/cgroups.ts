/**
 * The real nodes' cgroups: each node's kubelet puts every pod under the node's root
 * ({@linkcode cgroupRoot}) in each cgroup v1 hierarchy; the harness creates that root before
 * the kubelet starts and removes it, killing anything still inside, after the node stops.
 *
 * @module
 */
import type { NodeNetwork } from "./node_network.ts";

/** The kubelet's `cgroupRoot` of a node: `/pgop-node` for the first, as its namespace. */
export function cgroupRoot(node: Pick<NodeNetwork, "netns">): string {
  return `/${node.netns}`;
}

/** The mount points of the cgroup hierarchies (v1 controllers and the unified one). */
export function cgroupMounts(): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((line) => line.split(" "))
    .filter((fields) => {
      const separator = fields.indexOf("-");
      return separator > 0 && /^cgroup2?$/.test(fields[separator + 1] ?? "");
    })
    .map((fields) => fields[4]!);
}

/** Creates the root in every hierarchy (the cpuset one needs its CPUs and memory nodes set). */
export async function createCgroupRoot(root: string): Promise<void> {
  for (const mount of cgroupMounts()) {
    const dir = `${mount}${root}`;
    await Deno.mkdir(dir, { recursive: true });
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      const parent = await Deno.readTextFile(`${mount}/${file}`).catch(() => null);
      if (parent !== null) await Deno.writeTextFile(`${dir}/${file}`, parent);
    }
  }
}

/** Kills every process left under the root and removes it from every hierarchy. */
export async function removeCgroupRoot(root: string): Promise<void> {
  for (const mount of cgroupMounts()) await removeTree(`${mount}${root}`);
}

/** Every PID in the root or below it, in any hierarchy (the node's pods' processes). */
export function pidsInCgroup(root: string): Set<number> {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return;
    }
    for (const entry of entries) if (entry.isDirectory) walk(`${dir}/${entry.name}`);
    try {
      for (const pid of Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n")) {
        if (pid) pids.add(Number(pid));
      }
    } catch {
      // Gone meanwhile.
    }
  };
  for (const mount of cgroupMounts()) walk(`${mount}${root}`);
  return pids;
}

async function removeTree(dir: string): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return; // Not there.
  }
  for (const entry of entries) {
    if (entry.isDirectory) await removeTree(`${dir}/${entry.name}`);
  }
  for (let attempt = 0;; attempt++) {
    const pids = (await Deno.readTextFile(`${dir}/cgroup.procs`).catch(() => ""))
      .split("\n").filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    try {
      await Deno.remove(dir);
      return;
    } catch (error) {
      if (attempt >= 100) throw new Error(`Cannot remove cgroup ${dir}: ${error}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
