/**
 * The cluster's certificates and kubeconfig: one CA signs the API server's serving certificate,
 * the admin's client certificate (group `system:masters`, also the API server's identity toward
 * kubelets), the API server's front-proxy identity toward aggregated APIs and, with a real node,
 * the kubelet's and metrics-server's serving certificates.
 *
 * @module
 */
import {
  type Certificate,
  createCertificate,
  createKeyPair,
} from "../../src/runtime/serving/mod.ts";
import type { Connection } from "../../src/runtime/client/mod.ts";

/** Paths of the files {@linkcode writeClusterPki} wrote. */
export interface ClusterPki {
  ca: Certificate;
  admin: Certificate;
  caFile: string;
  apiServerCert: string;
  apiServerKey: string;
  adminCert: string;
  adminKey: string;
  /** The API server's identity toward aggregated APIs (metrics-server). */
  frontProxyCert: string;
  frontProxyKey: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
}

/**
 * Writes the CA, the API server's serving pair (valid for `serverIps`, 10.96.0.1 and the
 * `kubernetes.default` names), the admin pair and the service-account signing keys to `dir`.
 */
export async function writeClusterPki(dir: string, serverIps: string[]): Promise<ClusterPki> {
  const ca = await createCertificate({ commonName: "testenv-ca", isCA: true });
  const serving = await createCertificate({
    commonName: "kube-apiserver",
    issuer: ca,
    ipAddresses: [...serverIps, "10.96.0.1"],
    dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
  });
  const admin = await createCertificate({
    commonName: "admin",
    organizations: ["system:masters"],
    issuer: ca,
  });
  const frontProxy = await createCertificate({ commonName: "front-proxy-client", issuer: ca });
  const serviceAccountKey = await createKeyPair();
  const files = {
    caFile: ["ca.crt", ca.certPem],
    apiServerCert: ["apiserver.crt", serving.certPem],
    apiServerKey: ["apiserver.key", serving.keyPem],
    adminCert: ["admin.crt", admin.certPem],
    adminKey: ["admin.key", admin.keyPem],
    frontProxyCert: ["front-proxy-client.crt", frontProxy.certPem],
    frontProxyKey: ["front-proxy-client.key", frontProxy.keyPem],
    serviceAccountPrivateKey: ["sa.key", serviceAccountKey.privatePem],
    serviceAccountPublicKey: ["sa.pub", serviceAccountKey.publicPem],
  } as const;
  const paths = {} as Record<keyof typeof files, string>;
  for (const [key, [name, text]] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    paths[key as keyof typeof files] = `${dir}/${name}`;
  }
  return { ca, admin, ...paths };
}

/** Writes a serving pair signed by the cluster's CA and returns the two paths. */
export async function writeServingPair(
  dir: string,
  name: string,
  ca: Certificate,
  names: { commonName: string; ipAddresses?: string[]; dnsNames?: string[] },
): Promise<{ certFile: string; keyFile: string }> {
  const pair = await createCertificate({ ...names, issuer: ca });
  const certFile = `${dir}/${name}.crt`;
  const keyFile = `${dir}/${name}.key`;
  await Deno.writeTextFile(certFile, pair.certPem);
  await Deno.writeTextFile(keyFile, pair.keyPem);
  return { certFile, keyFile };
}

/** A kubeconfig with the connection's server, CA and client certificate inlined. */
export function kubeconfigYaml(c: Connection): string {
  // JSON is valid YAML, and needs no YAML writer.
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{
        name: "testenv",
        cluster: { server: c.server, "certificate-authority-data": btoa(c.caPem!) },
      }],
      users: [{
        name: "admin",
        user: { "client-certificate-data": btoa(c.certPem!), "client-key-data": btoa(c.keyPem!) },
      }],
      contexts: [{ name: "testenv", context: { cluster: "testenv", user: "admin" } }],
      "current-context": "testenv",
    },
    null,
    2,
  );
}
