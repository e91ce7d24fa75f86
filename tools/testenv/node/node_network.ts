/**
 * The real nodes' network: each node is a network namespace of its own, joined by one veth
 * pair to a bridge on the host, as machines are joined by a switch.
 *
 * containerd, the kubelet and kube-proxy of a node run inside its namespace (`nsenter --net`,
 * so they share the host's mounts), and so do its CNI bridge, every pod's veth and every
 * iptables rule its kubelet and kube-proxy write. A namespace has routes to its own pod subnet
 * (its CNI bridge), to the nodes' /24 on the host bridge, and to each other node's pod subnet
 * through that node, and no default route: nothing a pod sends can leave the machine. The
 * host's address on the bridge is the control plane's (API server, CoreDNS, metrics-server,
 * the object store). Taking a node's host-side veth down cuts that node off from everything
 * else while its processes keep running (a partition). Deleting the namespaces and the bridge
 * removes every link, route and rule at once.
 *
 * @module
 */
import { sh } from "../command.ts";

/** The most real nodes a cluster can have. */
export const MAX_REAL_NODES = 3;

/** The host side, shared by all nodes (private ranges, used only here). */
export const CLUSTER_NETWORK = {
  /** The host bridge every node's veth is plugged into. */
  bridge: "pgop0",
  /** The host's address on it: the API server binds here, pods reach it. */
  hostIp: "10.245.255.1",
  /** Every pod subnet (kube-proxy's `clusterCIDR`). */
  podRange: "10.245.0.0/22",
} as const;

/** One node's names and addresses. */
export interface NodeNetwork {
  /** 0 for the first node. */
  index: number;
  /** The Node's name (`real-node`, `real-node-2`, …). */
  name: string;
  /** The network namespace (`ip netns`). */
  netns: string;
  /** The host end of the node's veth pair, a port of the host bridge. */
  hostLink: string;
  /** The node's address (the Node's InternalIP): kubelet, kube-proxy. */
  nodeIp: string;
  /** The pods' subnet, on the `cni0` bridge inside the namespace. */
  podSubnet: string;
  podGateway: string;
  /** The CNI bridge inside the namespace. */
  bridge: string;
  /** The node's `topology.kubernetes.io/zone`. */
  zone: string;
}

/** The network of node `index` (0-based); the first keeps the single-node names. */
export function nodeNetwork(index: number): NodeNetwork {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_REAL_NODES) {
    throw new RangeError(`A cluster has 1 to ${MAX_REAL_NODES} real nodes, not ${index + 1}`);
  }
  const suffix = index === 0 ? "" : `-${index + 1}`;
  return {
    index,
    name: `real-node${suffix}`,
    netns: `pgop-node${suffix}`,
    hostLink: `pgop-n${index + 1}`,
    nodeIp: `10.245.255.${index + 2}`,
    podSubnet: `10.245.${index}.0/24`,
    podGateway: `10.245.${index}.1`,
    bridge: "cni0",
    zone: `zone-${index + 1}`,
  };
}

/** The first node's network and the host's address (the single-node names, for tests). */
export const NODE_NETWORK = { ...nodeNetwork(0), hostIp: CLUSTER_NETWORK.hostIp } as const;

const netnsPath = (node: NodeNetwork) => `/var/run/netns/${node.netns}`;

/**
 * `command args…` run inside a node's network namespace, on the host's mounts, in a session
 * of its own: a terminal's Ctrl-C reaches the harness, which stops the node in order, and not
 * containerd or the kubelet directly.
 */
export function inNodeNetwork(
  node: NodeNetwork,
  command: string,
  args: string[],
): [string, string[]] {
  return ["setsid", ["nsenter", `--net=${netnsPath(node)}`, "--", command, ...args]];
}

/**
 * Creates the host bridge and `count` node namespaces with their veths, addresses and routes.
 * Call it holding the real-node lock (`real_node_lock.ts`): anything found of an earlier
 * cluster then belongs to a holder that died, and is removed first, its processes included.
 */
export async function createClusterNetwork(count: number): Promise<NodeNetwork[]> {
  const nodes = Array.from({ length: count }, (_, i) => nodeNetwork(i));
  await removeStaleNetwork();
  const { bridge, hostIp } = CLUSTER_NETWORK;
  await sh("ip", ["link", "add", bridge, "type", "bridge"]);
  await sh("ip", ["addr", "add", `${hostIp}/24`, "dev", bridge]);
  await sh("ip", ["link", "set", bridge, "up"]);
  for (const node of nodes) {
    await sh("ip", ["netns", "add", node.netns]);
    await sh("ip", [
      "link",
      "add",
      node.hostLink,
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      node.netns,
    ]);
    await sh("ip", ["link", "set", node.hostLink, "master", bridge, "up"]);
    const inside = (command: string, args: string[]) => sh(...inNodeNetwork(node, command, args));
    await inside("ip", ["link", "set", "lo", "up"]);
    await inside("ip", ["addr", "add", `${node.nodeIp}/24`, "dev", "eth0"]);
    await inside("ip", ["link", "set", "eth0", "up"]);
    // Pods reach the API server and other nodes' pods through the node (forwarding), and
    // Services on the bridge need bridged traffic to pass iptables (kube-proxy's DNAT
    // replies). Both are per namespace.
    await inside("sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);
    await inside("sysctl", ["-q", "-w", "net.bridge.bridge-nf-call-iptables=1"]);
    for (const other of nodes.filter((n) => n !== node)) {
      await inside("ip", ["route", "add", other.podSubnet, "via", other.nodeIp, "dev", "eth0"]);
    }
    await sh("ip", ["route", "add", node.podSubnet, "via", node.nodeIp, "dev", bridge]);
  }
  return nodes;
}

/** Takes the node's host-side link down (`up: false`: a cut cable) or up again. */
export async function setNodeLink(node: NodeNetwork, up: boolean): Promise<void> {
  await sh("ip", ["link", "set", node.hostLink, up ? "up" : "down"]);
}

/** The PIDs of every process in the node's network namespace (daemons and shims). */
export async function pidsInNodeNetwork(node: NodeNetwork): Promise<number[]> {
  const out = await sh("ip", ["netns", "pids", node.netns], { allowFailure: true });
  return out.stdout.split("\n").filter(Boolean).map(Number);
}

/** Deletes the namespaces (and with them the veths, routes, CNI bridges and rules) and the bridge. */
export async function removeClusterNetwork(): Promise<void> {
  for (let i = 0; i < MAX_REAL_NODES; i++) {
    const node = nodeNetwork(i);
    if (await exists(netnsPath(node))) await sh("ip", ["netns", "delete", node.netns]);
    // The peer goes with the namespace; this only matters if creation stopped half way.
    await sh("ip", ["link", "delete", node.hostLink], { allowFailure: true });
  }
  await sh("ip", ["link", "delete", CLUSTER_NETWORK.bridge], { allowFailure: true });
}

/** Waits for a live holder's namespaces to go, kills a dead holder's orphans, removes it all. */
async function removeStaleNetwork(): Promise<void> {
  let said = false;
  for (let i = 0; i < MAX_REAL_NODES; i++) {
    const node = nodeNetwork(i);
    while (await exists(netnsPath(node))) {
      const pids = await pidsInNodeNetwork(node);
      // Orphans (re-parented to init) are a dead holder's; a live parent means a cluster that
      // runs without the lock (an older harness): wait for it instead.
      if (pids.some((pid) => parentOf(pid) !== 1)) {
        if (!said) console.error(`testenv: waiting for the real node's namespace ${node.netns}…`);
        said = true;
        await new Promise((r) => setTimeout(r, 1_000));
        continue;
      }
      killAll(pids);
      await sh("ip", ["netns", "delete", node.netns]);
    }
  }
  await removeClusterNetwork();
}

/** SIGKILL to each PID; those already gone are skipped. */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

/**
 * Whether a process with this PID runs on the host, also on its way out: a zombie (killed, not
 * yet reaped by the process it was reparented to) does not.
 */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** A process's parent PID (1 once its parent died), or 1 when it is gone. */
function parentOf(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return 1;
  }
}
