/**
 * The real node: containerd, kubelet, kube-proxy and CoreDNS in a network namespace of their
 * own, and what it takes to start and remove them.
 *
 * @module
 */
export { resolveInCluster } from "./coredns.ts";
export { mountsBelow } from "./host_paths.ts";
export { NODE_NAME } from "./kubelet.ts";
export {
  createNodeNetwork,
  inNodeNetwork,
  NODE_NETWORK,
  removeNodeNetwork,
} from "./node_network.ts";
export { assertRealNodeSupported, missingForRealNode, NO_REAL_NODE_ENV } from "./preflight.ts";
export { RealNode } from "./real_node.ts";
export { lockRealNode } from "./real_node_lock.ts";
export { HOST_PATH_VOLUMES, removeHostPathVolumes } from "./volume_permissions.ts";
