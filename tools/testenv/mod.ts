/**
 * The local control plane harness used by tests, benchmarks and `deno task dev`.
 *
 * @module
 */
export { binaryPath, ensureAll, pinnedVersions } from "./binaries.ts";
export { ControlPlane, type ControlPlaneOptions } from "./control_plane.ts";
export { eventually } from "./eventually.ts";
export { ensureImage, type ImageName } from "./images/images.ts";
export {
  missingForRealNode,
  mountsBelow,
  NO_REAL_NODE_ENV,
  NODE_NAME,
  NODE_NETWORK,
  resolveInCluster,
} from "./node/mod.ts";
export { ManagedProcess } from "./process.ts";
export { type OperatorProcess, startOperator } from "./operator.ts";
export { startPeerOperator } from "./peer_operator.ts";
export { TcpProxy } from "./tcp_proxy.ts";
export { freePorts } from "./waiting.ts";
