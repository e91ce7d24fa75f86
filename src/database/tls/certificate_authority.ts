/**
 * The operator's certificate authority, one per installation: a `kubernetes.io/tls` Secret
 * `postgres-operator-ca` in the operator's namespace (the Lease's), made on the first start
 * with an ECDSA P-256 key from WebCrypto's CSPRNG and read back on every later one. It signs each
 * Database's server certificate; its certificate is what clients verify against (`ca.crt` in
 * the Database's credentials Secret). The key leaves the Secret only into this process's memory.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  ApiError,
  collectionPath,
  CORE,
  type KubeClient,
  objectPath,
} from "../../runtime/client/mod.ts";
import { type Certificate, createCertificate, loadCertificate } from "../../runtime/serving/mod.ts";
import { FIELD_MANAGER } from "../api/mod.ts";

/** The CA Secret's name. */
export const CA_SECRET = "postgres-operator-ca";
/** How long the CA is valid. */
export const CA_VALID_DAYS = 3650;

/** The CA, able to sign. */
export interface CertificateAuthority {
  issuer: Certificate;
  /** The CA certificate's PEM, as clients get it. */
  certPem: string;
  /** {@linkcode caFingerprint} of `certPem`: which CA a Secret's `ca.crt` is. */
  fingerprint: string;
}

interface TlsSecret {
  metadata?: { name?: string };
  type?: string;
  data?: Record<string, string>;
}

/** The CA of the installation in `namespace`: read, or made when there is none. */
export async function ensureCertificateAuthority(
  client: KubeClient,
  namespace: string,
  options: { signal?: AbortSignal; now?: Date } = {},
): Promise<CertificateAuthority> {
  const path = objectPath(CORE.secrets, namespace, CA_SECRET);
  const signal = options.signal ? { signal: options.signal } : {};
  const read = () => client.request<TlsSecret>("GET", path, signal);
  let secret = await read().catch((error) => {
    if (error instanceof ApiError && error.code === 404) return undefined;
    throw error;
  });
  if (!secret) {
    const made = await createCertificate({
      commonName: "postgres-operator CA",
      organizations: ["postgres-operator"],
      isCA: true,
      validDays: CA_VALID_DAYS,
      ...(options.now ? { now: options.now } : {}),
    });
    try {
      secret = await client.request<TlsSecret>("POST", collectionPath(CORE.secrets, namespace), {
        body: {
          apiVersion: "v1",
          kind: "Secret",
          metadata: {
            name: CA_SECRET,
            labels: { "app.kubernetes.io/name": "postgres-operator" },
          },
          type: "kubernetes.io/tls",
          data: { "tls.crt": btoa(made.certPem), "tls.key": btoa(made.keyPem) },
        },
        query: { fieldManager: FIELD_MANAGER },
        ...signal,
      });
    } catch (error) {
      // Another replica made it first: use that one.
      if (!(error instanceof ApiError && error.code === 409)) throw error;
      secret = await read();
    }
  }
  return await fromSecret(secret, namespace);
}

async function fromSecret(secret: TlsSecret, namespace: string): Promise<CertificateAuthority> {
  const where = `Secret ${namespace}/${CA_SECRET}`;
  const certPem = secret.data?.["tls.crt"] && atob(secret.data["tls.crt"]);
  const keyPem = secret.data?.["tls.key"] && atob(secret.data["tls.key"]);
  if (!certPem || !keyPem) throw new Error(`${where} lacks tls.crt or tls.key`);
  let issuer: Certificate;
  try {
    issuer = await loadCertificate(certPem, keyPem);
  } catch (error) {
    throw new Error(
      `${where} does not hold an ECDSA P-256 CA certificate and its key (${
        (error as Error).message
      }); delete it to have a new CA made`,
    );
  }
  return { issuer, certPem, fingerprint: caFingerprint(certPem) };
}

/** The first 16 hex digits of the SHA-256 of a CA certificate's PEM text. */
export function caFingerprint(pem: string): string {
  return createHash("sha256").update(pem).digest("hex").slice(0, 16);
}
