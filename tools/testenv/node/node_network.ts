/**
 * The real node's network: a network namespace of its own, joined to the host by one veth pair.
 *
 * containerd, the kubelet, kube-proxy and CoreDNS run inside the namespace (`nsenter --net`, so
 * they share the host's mounts), and so do the CNI bridge, every pod's veth and every iptables
 * rule kubelet and kube-proxy write. The namespace has exactly two routes, to the pod subnet
 * (its bridge) and to the veth's /30, and no default route: nothing a pod sends can leave the
 * machine. The host end of the veth is the only host address pods reach; the API server
 * listens there. Deleting the namespace removes the bridge, the veth, its host route and every
 * rule at once.
 *
 * @module
 */
import { sh } from "../command.ts";

/** Names and addresses of the node's network (private ranges, used only here). */
export const NODE_NETWORK = {
  /** The network namespace (`ip netns`). */
  netns: "pgop-node",
  /** The host end of the veth pair. */
  hostLink: "pgop0",
  /** The host's address on it: the API server binds here, pods reach it. */
  hostIp: "10.245.255.1",
  /** The node's address (the Node's InternalIP): kubelet, CoreDNS. */
  nodeIp: "10.245.255.2",
  /** The pods' subnet, on the `cni0` bridge inside the namespace. */
  podSubnet: "10.245.0.0/24",
  podGateway: "10.245.0.1",
  bridge: "cni0",
} as const;

const NETNS_PATH = `/var/run/netns/${NODE_NETWORK.netns}`;

/**
 * `command args…` run inside the node's network namespace, on the host's mounts, in a session
 * of its own: a terminal's Ctrl-C reaches the harness, which stops the node in order, and not
 * containerd or the kubelet directly.
 */
export function inNodeNetwork(command: string, args: string[]): [string, string[]] {
  return ["setsid", ["nsenter", `--net=${NETNS_PATH}`, "--", command, ...args]];
}

/**
 * Creates the namespace, the veth pair, the addresses and the host route. Call it holding the
 * real-node lock (`real_node_lock.ts`): anything found of an earlier node then belongs to a
 * holder that died, and is removed first, its processes included.
 */
export async function createNodeNetwork(): Promise<void> {
  const { netns, hostLink, hostIp, nodeIp, podSubnet } = NODE_NETWORK;
  let said = false;
  while (await netnsExists()) {
    const pids = (await sh("ip", ["netns", "pids", netns])).stdout.split("\n").filter(Boolean);
    // Orphans (re-parented to init) are a dead holder's; a live parent means a cluster that
    // runs without the lock (an older harness): wait for it instead.
    if (pids.some((pid) => parentOf(pid) !== 1)) {
      if (!said) console.error(`testenv: waiting for the real node's namespace ${netns}…`);
      said = true;
      await new Promise((r) => setTimeout(r, 1_000));
      continue;
    }
    for (const pid of pids) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    await removeNodeNetwork();
  }
  await sh("ip", ["netns", "add", netns]);
  await sh("ip", ["link", "add", hostLink, "type", "veth", "peer", "name", "eth0", "netns", netns]);
  await sh("ip", ["addr", "add", `${hostIp}/30`, "dev", hostLink]);
  await sh("ip", ["link", "set", hostLink, "up"]);
  const inside = (command: string, args: string[]) => sh(...inNodeNetwork(command, args));
  await inside("ip", ["link", "set", "lo", "up"]);
  await inside("ip", ["addr", "add", `${nodeIp}/30`, "dev", "eth0"]);
  await inside("ip", ["link", "set", "eth0", "up"]);
  // Pods reach the API server through the node (forwarding), and Services on the bridge need
  // bridged traffic to pass iptables (kube-proxy's DNAT replies). Both are per namespace.
  await inside("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
  await inside("sysctl", ["-q", "-w", "net.bridge.bridge-nf-call-iptables=1"]);
  await sh("ip", ["route", "add", podSubnet, "via", nodeIp, "dev", hostLink]);
}

/** Deletes the namespace and with it the veth pair, its route, the bridge and all rules. */
export async function removeNodeNetwork(): Promise<void> {
  if (await netnsExists()) await sh("ip", ["netns", "delete", NODE_NETWORK.netns]);
  // The peer goes with the namespace; this only matters if creation stopped half way.
  await sh("ip", ["link", "delete", NODE_NETWORK.hostLink], { allowFailure: true });
}

async function netnsExists(): Promise<boolean> {
  return await Deno.stat(NETNS_PATH).then(() => true, () => false);
}

/** A process's parent PID (1 once its parent died), or 1 when it is gone. */
function parentOf(pid: string): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return 1;
  }
}
