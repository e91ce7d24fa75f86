/**
 * The cluster's DNS: CoreDNS with its `kubernetes` plugin, once per cluster, on the host's
 * bridge address beside the API server (every kubelet's `clusterDNS`), so that it outlives any
 * node's failure as kind's control-plane node's CoreDNS does. It answers `cluster.local` and reverse lookups of the cluster's addresses and
 * forwards nothing upstream: other names fail.
 *
 * @module
 */
import { binaryPath } from "../binaries.ts";
import { ManagedProcess } from "../process.ts";
import { waitFor } from "../waiting.ts";
import { CLUSTER_NETWORK } from "./node_network.ts";

/** Starts CoreDNS and waits until it resolves `kubernetes.default.svc.cluster.local`. */
export async function startCoreDns(dir: string, kubeconfig: string): Promise<ManagedProcess> {
  const corefile = `${dir}/Corefile`;
  await Deno.writeTextFile(
    corefile,
    `.:53 {
    bind ${CLUSTER_NETWORK.hostIp}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig}
        pods insecure
        ttl 5
    }
}
`,
  );
  const process = ManagedProcess.start({
    name: "coredns",
    command: await binaryPath("coredns"),
    args: ["-conf", corefile],
    logDir: dir,
  });
  const answers = async () =>
    (await resolveInCluster("kubernetes.default.svc.cluster.local").catch(() => [])).length > 0;
  await waitFor("CoreDNS", answers, 60_000, process);
  return process;
}

/** Resolves an A record with the cluster's DNS, as a pod would. */
export function resolveInCluster(name: string): Promise<string[]> {
  return Deno.resolveDns(name, "A", { nameServer: { ipAddr: CLUSTER_NETWORK.hostIp, port: 53 } });
}
