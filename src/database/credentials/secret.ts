/**
 * The credentials Secret `<name>-credentials`: username, password, database, and ready-made
 * connection details. The password is created once and never replaced.
 *
 * @module
 */
import type { KubeObject } from "../../runtime/client/mod.ts";
import {
  type Database,
  type DatabaseSpec,
  ownedMetadata,
  POSTGRES_PORT,
  secretName,
  serviceHost,
} from "../api/mod.ts";
import { PG_HBA, TLS_ANNOTATION } from "../tls/mod.ts";

/** A core/v1 Secret. */
export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

/** 32 URL-safe characters from a cryptographic random source (192 bits). */
export function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

/** The role standbys stream as (CloudNativePG's name); its password is in the Secret. */
export const REPLICATION_USER = "streaming_replica";
/** The Secret key of the replication role's password (present once replicas exceed 1). */
export const REPLICATION_PASSWORD_KEY = "replication-password";

/** The server certificate a Secret carries (`tls.crt`, `tls.key`), its CA and annotation. */
export interface SecretTls {
  certPem: string;
  keyPem: string;
  caPem: string;
  /** `TLS_ANNOTATION`'s value: what the certificate covers, until when, by which CA. */
  annotation: string;
}

/**
 * The Secret as it should be, keeping `password` (plain text) and, when given, the replication
 * role's password and the server certificate (with which `uri` asks for `verify-full`, and
 * `pg_hba.conf` admits TLS only).
 */
export function desiredSecret(
  db: Database,
  spec: DatabaseSpec,
  password: string,
  replicationPassword?: string,
  tls?: SecretTls,
): Secret {
  const host = serviceHost(db);
  const plain: Record<string, string> = {
    username: spec.username,
    password,
    database: spec.databaseName,
    host,
    port: String(POSTGRES_PORT),
    uri: connectionUri(
      spec.username,
      password,
      host,
      String(POSTGRES_PORT),
      spec.databaseName,
      tls !== undefined,
    ),
    ...(replicationPassword ? { [REPLICATION_PASSWORD_KEY]: replicationPassword } : {}),
    ...(tls
      ? {
        "tls.crt": tls.certPem,
        "tls.key": tls.keyPem,
        "ca.crt": tls.caPem,
        "pg_hba.conf": PG_HBA,
      }
      : {}),
  };
  const metadata = ownedMetadata(db, secretName(db));
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: tls ? { ...metadata, annotations: { [TLS_ANNOTATION]: tls.annotation } } : metadata,
    type: "Opaque",
    data: Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, btoa(v)])),
  };
}

/**
 * The Secret's `uri`: a libpq connection URI with the credentials in it; with `verify`, it
 * asks for TLS with the server's name checked (`sslmode=verify-full`) against the CA a client
 * gives (`sslrootcert`, or `PGSSLROOTCERT` pointing at the Secret's `ca.crt`).
 */
export function connectionUri(
  username: string,
  password: string,
  host: string,
  port: string,
  database: string,
  verify = false,
): string {
  return `postgresql://${encodeURIComponent(username)}:${encodeURIComponent(password)}@` +
    `${host}:${port}/${encodeURIComponent(database)}${verify ? "?sslmode=verify-full" : ""}`;
}

/** The password stored in a Secret under `key`, if it has a usable one. */
export function passwordOf(secret: Secret | undefined, key = "password"): string | undefined {
  const encoded = secret?.data?.[key];
  if (!encoded) return undefined;
  const password = atob(encoded);
  return password.length > 0 ? password : undefined;
}
