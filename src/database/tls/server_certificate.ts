/**
 * A Database's server certificate: issued by the operator's CA for {@linkcode serverNames},
 * valid {@linkcode SERVER_VALID_DAYS} days, renewed at two thirds of its life. It lives in the
 * credentials Secret (`tls.crt`, `tls.key`, `ca.crt`), so a new Database costs no request more,
 * and the Secret's annotation {@linkcode TLS_ANNOTATION} says what it covers, until when, and
 * by which CA: enough for the cache (which keeps no Secret data) to tell when to renew.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createCertificate } from "../../runtime/serving/mod.ts";
import type { Database } from "../api/mod.ts";
import type { CertificateAuthority } from "./certificate_authority.ts";
import { serverNames } from "./server_names.ts";

/** How long a server certificate is valid unless configured otherwise. */
export const SERVER_VALID_DAYS = 90;
/** `<names digest>/<not before ms>/<not after ms>/<CA fingerprint>` of the Secret's certificate. */
export const TLS_ANNOTATION = "database.example.com/server-certificate";

/** A server certificate and key, as PEM, and what the annotation says of them. */
export interface ServerCertificate {
  certPem: string;
  keyPem: string;
  annotation: string;
}

/** What the TLS step needs: the CA, the DNS domain, the lifetime and a clock. */
export interface TlsSettings {
  ca: CertificateAuthority;
  clusterDomain?: string;
  /** @default SERVER_VALID_DAYS */
  validDays?: number;
  now?: () => Date;
}

/** A short digest of the names a certificate must cover. */
export function namesDigest(names: string[]): string {
  return createHash("sha256").update(names.join(",")).digest("hex").slice(0, 12);
}

/**
 * Whether a certificate described by `annotation` still serves `db`: the same names and CA,
 * and less than two thirds of its life gone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const db = { metadata: { name: "a", namespace: "b" }, spec: {} } as never;
 * const names = namesDigest(serverNames(db));
 * const ca = { fingerprint: "f" } as never;
 * const settings = { ca, now: () => new Date(5_000) };
 * assert.equal(certificateCurrent(`${names}/0/9000/f`, db, settings), true);
 * assert.equal(certificateCurrent(`${names}/0/6000/f`, db, settings), false);
 * assert.equal(certificateCurrent(`${names}/0/9000/other`, db, settings), false);
 * ```
 */
export function certificateCurrent(
  annotation: string | undefined,
  db: Database,
  settings: TlsSettings,
): boolean {
  const [names, from, until, ca] = (annotation ?? "").split("/");
  const notBefore = Number(from);
  const notAfter = Number(until);
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter) || notAfter <= notBefore) {
    return false;
  }
  const renewAt = notBefore + (notAfter - notBefore) * 2 / 3;
  return names === namesDigest(serverNames(db, settings.clusterDomain)) &&
    ca === settings.ca.fingerprint && (settings.now?.() ?? new Date()).getTime() < renewAt;
}

/** Issues a new server certificate for `db`. */
export async function issueServerCertificate(
  db: Database,
  settings: TlsSettings,
): Promise<ServerCertificate> {
  const now = settings.now?.() ?? new Date();
  const names = serverNames(db, settings.clusterDomain);
  const made = await createCertificate({
    commonName: `${db.metadata.name}.${db.metadata.namespace}.svc`,
    dnsNames: names,
    issuer: settings.ca.issuer,
    validDays: settings.validDays ?? SERVER_VALID_DAYS,
    now,
  });
  const notBefore = made.cert.notBefore.getTime();
  const notAfter = made.cert.notAfter.getTime();
  return {
    certPem: made.certPem,
    keyPem: made.keyPem,
    annotation: `${namesDigest(names)}/${notBefore}/${notAfter}/${settings.ca.fingerprint}`,
  };
}
