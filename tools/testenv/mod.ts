/**
 * The local control plane harness used by tests, benchmarks and `deno task dev`.
 *
 * @module
 */
export { binaryPath, ensureAll, pinnedVersions } from "./binaries.ts";
export { ControlPlane, type ControlPlaneOptions, freePorts } from "./control_plane.ts";
export { eventually } from "./eventually.ts";
export { ManagedProcess } from "./process.ts";
export { type OperatorProcess, startOperator } from "./operator.ts";
export { TcpProxy } from "./tcp_proxy.ts";
