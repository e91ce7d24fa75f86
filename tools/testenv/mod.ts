/**
 * The local control plane harness used by tests, benchmarks and `deno task dev`.
 *
 * @module
 */
export { binaryPath, ensureAll, pinnedVersions } from "./binaries.ts";
export { ControlPlane, type ControlPlaneOptions } from "./control_plane.ts";
export { eventually } from "./eventually.ts";
export { ensureImage, type ImageName, PAUSE_IMAGE } from "./images/images.ts";
export {
  alive,
  CLUSTER_NETWORK,
  inNodeNetwork,
  MAX_REAL_NODES,
  missingForRealNode,
  mountsBelow,
  NO_REAL_NODE_ENV,
  NODE_NAME,
  NODE_NETWORK,
  nodeNetwork,
  NodeRequestError,
  requestNodeControl,
  resolveInCluster,
  volumeRoot,
} from "./node/mod.ts";
export {
  BACKUP_BUCKET,
  OBJECT_STORE_ENDPOINT,
  OBJECT_STORE_SECRET,
  type ObjectStore,
} from "./object_store.ts";
export { ManagedProcess } from "./process.ts";
export { type OperatorProcess, startOperator } from "./operator.ts";
export { startPeerOperator } from "./peer_operator.ts";
export { TcpProxy } from "./tcp_proxy.ts";
export { freePorts } from "./waiting.ts";
