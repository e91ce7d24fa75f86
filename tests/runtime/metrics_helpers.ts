/**
 * Shared steps of the metrics tests: reading Prometheus text, getting real ServiceAccount tokens
 * from a control plane, and trusting a server's certificate.
 */
import { Buffer } from "node:buffer";
import tls from "node:tls";
import type { ControlPlane } from "../../tools/testenv/mod.ts";
import { parseMetrics, type Sample } from "../../tools/load/prometheus.ts";

const RBAC_DIR = new URL("../../manifests/rbac", import.meta.url).pathname;

export { parseMetrics, type Sample } from "../../tools/load/prometheus.ts";

/** The samples named `name` whose labels include `labels`. */
export function samples(text: string, name: string, labels: Record<string, string> = {}): Sample[] {
  return parseMetrics(text).filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
}

/** The sum of the matching samples' values (0 when none match). */
export function total(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text, name, labels).reduce((sum, s) => sum + s.value, 0);
}

/** Runs kubectl and fails with its stderr when it fails. */
export async function mustKubectl(plane: ControlPlane, args: string[]): Promise<string> {
  const out = await plane.kubectl(args);
  if (out.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${out.stderr.trim()}`);
  return out.stdout;
}

/**
 * Applies the metrics ClusterRoles of `manifests/rbac` (metrics-reader among them). Only these:
 * the rest of that folder is namespaced in `system`, which only `manifests/default` rewrites.
 */
export async function applyRbac(plane: ControlPlane): Promise<void> {
  await mustKubectl(plane, [
    "apply",
    "-f",
    `${RBAC_DIR}/metrics_reader_role.yaml`,
    "-f",
    `${RBAC_DIR}/metrics_auth_role.yaml`,
  ]);
}

/**
 * Creates ServiceAccount `name` in `ns`, binds it to `metrics-reader` when `reader` is true, and
 * returns a fresh token from `kubectl create token`.
 */
export async function serviceAccountToken(
  plane: ControlPlane,
  ns: string,
  name: string,
  reader: boolean,
): Promise<string> {
  await mustKubectl(plane, ["create", "serviceaccount", name, "-n", ns]);
  if (reader) {
    await mustKubectl(plane, [
      "create",
      "clusterrolebinding",
      `${ns}-${name}-metrics-reader`,
      "--clusterrole=metrics-reader",
      `--serviceaccount=${ns}:${name}`,
    ]);
  }
  return (await mustKubectl(plane, ["create", "token", name, "-n", ns])).trim();
}

/** The certificate a TLS server on 127.0.0.1 presents, as PEM, read without verifying it. */
export async function servedCertificate(port: number): Promise<string> {
  const socket = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false });
  try {
    await new Promise((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    // Deno hands `raw` out as a plain Uint8Array, whose toString() is not base64.
    const der = Buffer.from(socket.getPeerCertificate(true).raw).toString("base64");
    return `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)!.join("\n")}\n` +
      "-----END CERTIFICATE-----\n";
  } finally {
    socket.destroy();
  }
}

/** The ALPN protocol a TLS server picks when offered both `h2` and `http/1.1`. */
export async function negotiatedProtocol(port: number, caPem: string): Promise<string | null> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [caPem],
    alpnProtocols: ["h2", "http/1.1"],
  });
  try {
    return (await conn.handshake()).alpnProtocol;
  } finally {
    conn.close();
  }
}

/** GETs `url` with an optional bearer token; returns status and body. */
export async function scrape(
  url: string,
  client: Deno.HttpClient | undefined,
  token?: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    ...(client ? { client } : {}),
    ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
  });
  return { status: response.status, body: await response.text() };
}
