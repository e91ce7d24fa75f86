/**
 * A real node's kube-proxy, in iptables mode inside the node's network namespace, so that
 * ClusterIP Services route to pods (and `kubernetes.default` to the API server). It leaves the
 * host's global conntrack settings alone.
 *
 * @module
 */
import { binaryPath } from "../binaries.ts";
import { sh } from "../command.ts";
import { ManagedProcess } from "../process.ts";
import { waitFor } from "../waiting.ts";
import { CLUSTER_NETWORK, inNodeNetwork, type NodeNetwork } from "./node_network.ts";

/** Writes the configuration and starts kube-proxy for `node`, logging into `dir`. */
export async function startKubeProxy(
  dir: string,
  kubeconfig: string,
  node: NodeNetwork,
): Promise<ManagedProcess> {
  const config = `${dir}/kube-proxy.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
      kind: "KubeProxyConfiguration",
      clientConnection: { kubeconfig },
      mode: "iptables",
      clusterCIDR: CLUSTER_NETWORK.podRange,
      hostnameOverride: node.name,
      bindAddress: node.nodeIp,
      healthzBindAddress: "127.0.0.1:10256",
      metricsBindAddress: "127.0.0.1:10249",
      // nf_conntrack_max and the TCP timeouts are the host's, not this namespace's: keep them.
      conntrack: {
        maxPerCore: 0,
        min: 0,
        tcpEstablishedTimeout: "0s",
        tcpCloseWaitTimeout: "0s",
      },
    }),
  );
  const [command, args] = inNodeNetwork(node, await binaryPath("kube-proxy"), [
    `--config=${config}`,
  ]);
  const process = ManagedProcess.start({ name: "kube-proxy", command, args, logDir: dir });
  // Until its first sync, a ClusterIP is only an address the node has no route to: a client
  // then fails with "Network is unreachable" although the Service and its pods are ready.
  await waitFor("kube-proxy's first sync of the Services", () => synced(node), 60_000, process);
  return process;
}

/** Whether kube-proxy has written all its rules once (its metrics, read in the node's network). */
async function synced(node: NodeNetwork): Promise<boolean> {
  const [command, args] = inNodeNetwork(node, "curl", [
    "-fsS",
    "--max-time",
    "2",
    "http://127.0.0.1:10249/metrics",
  ]);
  const output = await sh(command, args, { allowFailure: true });
  if (output.code !== 0) return false;
  const line = output.stdout.split("\n")
    .find((l) => l.startsWith("kubeproxy_sync_full_proxy_rules_duration_seconds_count"));
  return Number(line?.split(" ").at(-1) ?? 0) > 0;
}
