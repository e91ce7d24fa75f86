/**
 * A real node's kubelet: registers its Node (`real-node`, `real-node-2`, … with hostname and
 * zone labels), runs pods through containerd, and
 * serves logs, exec and port-forward to the API server over TLS signed by the cluster's CA,
 * authenticating the API server by its client certificate and everyone else by TokenReview.
 *
 * @module
 */
import { binaryPath } from "../binaries.ts";
import { ManagedProcess } from "../process.ts";
import { containerdPaths } from "./containerd.ts";
import { cgroupRoot } from "./cgroups.ts";
import { CLUSTER_NETWORK, inNodeNetwork, type NodeNetwork } from "./node_network.ts";

/** The first real Node's name. */
export const NODE_NAME = "real-node";

/** Files the kubelet needs from the cluster's folder. */
export interface KubeletFiles {
  /** The node's folder: the kubelet's root, logs and configuration go under it. */
  dir: string;
  /** The node's names and addresses. */
  node: NodeNetwork;
  kubeconfig: string;
  caFile: string;
  /** The kubelet's serving certificate (for the node's address) and key. */
  certFile: string;
  keyFile: string;
}

/** Writes the configuration and starts the kubelet (it registers the Node by itself). */
export async function startKubelet(files: KubeletFiles): Promise<ManagedProcess> {
  const config = `${files.dir}/kubelet/config.json`;
  await Deno.mkdir(`${files.dir}/kubelet/pod-logs`, { recursive: true });
  await Deno.writeTextFile(config, JSON.stringify(kubeletConfiguration(files), null, 2));
  const { node } = files;
  const [command, args] = inNodeNetwork(node, await binaryPath("kubelet"), [
    `--config=${config}`,
    `--kubeconfig=${files.kubeconfig}`,
    // Also the `kubernetes.io/hostname` label.
    `--hostname-override=${node.name}`,
    `--node-ip=${node.nodeIp}`,
    `--root-dir=${files.dir}/kubelet/root`,
    `--cert-dir=${files.dir}/kubelet/pki`,
    `--node-labels=postgres-operator.example.com/node=real,topology.kubernetes.io/zone=${node.zone}`,
  ]);
  return ManagedProcess.start({ name: "kubelet", command, args, logDir: files.dir });
}

function kubeletConfiguration(files: KubeletFiles): Record<string, unknown> {
  return {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    // This host: cgroup v1 without systemd, no CAP_SYS_RESOURCE, swap allowed.
    failCgroupV1: false,
    cgroupDriver: "cgroupfs",
    // Every pod cgroup under one root of ours, which the harness removes (cgroups.ts).
    cgroupRoot: cgroupRoot(files.node),
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${containerdPaths(files.dir).socket}`,
    address: files.node.nodeIp,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: 10248,
    tlsCertFile: files.certFile,
    tlsPrivateKeyFile: files.keyFile,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: files.caFile },
    },
    authorization: { mode: "Webhook" },
    clusterDomain: "cluster.local",
    // CoreDNS runs once, beside the API server on the host's bridge address.
    clusterDNS: [CLUSTER_NETWORK.hostIp],
    // Pods resolve cluster names only: no host resolv.conf, no search domains of the host's.
    resolvConf: "",
    podLogsDir: `${files.dir}/kubelet/pod-logs`,
    volumePluginDir: `${files.dir}/kubelet/volume-plugins`,
    enforceNodeAllocatable: [],
    localStorageCapacityIsolation: false,
    // No eviction and no image garbage collection: the images cannot be pulled back.
    evictionHard: {},
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    shutdownGracePeriod: "0s",
  };
}
