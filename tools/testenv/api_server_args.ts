/**
 * kube-apiserver's flags: envtest's set, and with real nodes what pods, the kubelets and
 * metrics-server need (ServiceAccount tokens, kubelet TLS both ways, the aggregation layer).
 *
 * @module
 */
import type { ClusterPki } from "./pki.ts";

/** The flags for an API server on `host:securePort` over etcd at `etcdUrl`. */
export function apiServerArgs(
  dir: string,
  pki: ClusterPki,
  etcdUrl: string,
  host: string,
  securePort: number,
  realNode: boolean,
): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    `--secure-port=${securePort}`,
    `--bind-address=${host}`,
    `--advertise-address=${host}`,
    `--cert-dir=${dir}`,
    `--tls-cert-file=${pki.apiServerCert}`,
    `--tls-private-key-file=${pki.apiServerKey}`,
    `--client-ca-file=${pki.caFile}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountPrivateKey}`,
    "--service-cluster-ip-range=10.96.0.0/16",
    "--authorization-mode=RBAC",
    "--allow-privileged=true",
    "--profiling=false",
    ...(realNode
      ? [
        // Pods get their ServiceAccount's token; logs, exec and port-forward reach the kubelet
        // by the Node's address, over TLS both ways.
        `--kubelet-client-certificate=${pki.adminCert}`,
        `--kubelet-client-key=${pki.adminKey}`,
        `--kubelet-certificate-authority=${pki.caFile}`,
        "--kubelet-preferred-address-types=InternalIP",
        // The aggregation layer, for metrics-server: the API server proxies as
        // `front-proxy-client` and routes to the APIService's endpoint, not its ClusterIP.
        `--requestheader-client-ca-file=${pki.caFile}`,
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        `--proxy-client-cert-file=${pki.frontProxyCert}`,
        `--proxy-client-key-file=${pki.frontProxyKey}`,
        "--enable-aggregator-routing=true",
      ]
      : ["--disable-admission-plugins=ServiceAccount"]),
  ];
}
