/**
 * The real nodes: containerd, kubelet and kube-proxy in a network namespace per node, the
 * parts the nodes share, the faults they can suffer, and what it takes to start and remove
 * them.
 *
 * @module
 */
export { resolveInCluster } from "./coredns.ts";
export { mountsBelow } from "./host_paths.ts";
export { HOST_PATH_VOLUMES, removeHostPathVolumes } from "./host_path_volumes.ts";
export { NODE_NAME } from "./kubelet.ts";
export { LOCAL_PATH_PROVISIONER, volumeRoot } from "./local_volumes.ts";
export {
  type NodeAnswer,
  type NodeRequest,
  NodeRequestError,
  requestNodeControl,
} from "./node_control.ts";
export {
  alive,
  CLUSTER_NETWORK,
  createClusterNetwork,
  inNodeNetwork,
  MAX_REAL_NODES,
  NODE_NETWORK,
  type NodeNetwork,
  nodeNetwork,
  removeClusterNetwork,
} from "./node_network.ts";
export { assertRealNodeSupported, missingForRealNode, NO_REAL_NODE_ENV } from "./preflight.ts";
export { RealCluster } from "./real_cluster.ts";
export { type NodeState, RealNode } from "./real_node.ts";
export { lockRealNode } from "./real_node_lock.ts";
