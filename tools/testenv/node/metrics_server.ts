/**
 * metrics-server for `kubectl top`: it scrapes the kubelet's `/metrics/resource` (over TLS
 * checked against the cluster's CA) and serves `metrics.k8s.io` through the API server's
 * aggregation layer. It runs once per cluster, on the host beside the API server (it reaches
 * every node's kubelet across the host bridge); a selector-less Service
 * `kube-system/metrics-server` with an Endpoints object for the host's bridge address is what
 * the APIService names, and the API server routes to that endpoint directly
 * (`--enable-aggregator-routing`).
 *
 * @module
 */
import type { KubeClient } from "../../../src/runtime/client/mod.ts";
import { binaryPath } from "../binaries.ts";
import { ManagedProcess } from "../process.ts";
import { waitFor } from "../waiting.ts";
import { CLUSTER_NETWORK } from "./node_network.ts";

const PORT = 4443;

/** What metrics-server needs from the cluster. */
export interface MetricsServerFiles {
  dir: string;
  kubeconfig: string;
  caFile: string;
  caPem: string;
  /** Its serving pair, for `metrics-server.kube-system.svc` and the host's bridge address. */
  certFile: string;
  keyFile: string;
}

/** Starts metrics-server, registers its APIService and waits until the API is Available. */
export async function startMetricsServer(
  client: KubeClient,
  files: MetricsServerFiles,
): Promise<ManagedProcess> {
  const args = [
    `--kubeconfig=${files.kubeconfig}`,
    `--authentication-kubeconfig=${files.kubeconfig}`,
    `--authorization-kubeconfig=${files.kubeconfig}`,
    `--bind-address=${CLUSTER_NETWORK.hostIp}`,
    `--secure-port=${PORT}`,
    `--tls-cert-file=${files.certFile}`,
    `--tls-private-key-file=${files.keyFile}`,
    `--kubelet-certificate-authority=${files.caFile}`,
    "--kubelet-preferred-address-types=InternalIP",
    // The smallest resolution it allows (it must exceed the kubelet timeout): `kubectl top`
    // answers seconds after a pod starts.
    "--metric-resolution=10s",
    "--kubelet-request-timeout=5s",
  ];
  const process = ManagedProcess.start({
    name: "metrics-server",
    command: await binaryPath("metrics-server"),
    args,
    logDir: files.dir,
  });
  const ns = "/api/v1/namespaces/kube-system";
  const meta = { name: "metrics-server", namespace: "kube-system" };
  await client.request("POST", `${ns}/services`, {
    body: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta,
      spec: { ports: [{ name: "https", port: 443, targetPort: PORT, protocol: "TCP" }] },
    },
  });
  await client.request("POST", `${ns}/endpoints`, {
    body: {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: meta,
      subsets: [{
        addresses: [{ ip: CLUSTER_NETWORK.hostIp }],
        ports: [{ name: "https", port: PORT, protocol: "TCP" }],
      }],
    },
  });
  await client.request("POST", "/apis/apiregistration.k8s.io/v1/apiservices", {
    body: {
      apiVersion: "apiregistration.k8s.io/v1",
      kind: "APIService",
      metadata: { name: "v1beta1.metrics.k8s.io" },
      spec: {
        service: { name: "metrics-server", namespace: "kube-system", port: 443 },
        group: "metrics.k8s.io",
        version: "v1beta1",
        caBundle: btoa(files.caPem),
        groupPriorityMinimum: 100,
        versionPriority: 100,
      },
    },
  });
  const available = async () => {
    const service = await client.request<
      { status?: { conditions?: { type: string; status: string }[] } }
    >("GET", "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io")
      .catch(() => undefined);
    return service?.status?.conditions?.some((c) =>
      c.type === "Available" && c.status === "True"
    ) ??
      false;
  };
  await waitFor("metrics.k8s.io Available", available, 120_000, process);
  return process;
}
