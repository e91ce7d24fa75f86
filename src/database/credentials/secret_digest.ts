/**
 * What the operator's cache keeps of a credentials Secret: its metadata and type and, instead of
 * its data, a digest of it. From the digest the reconciler can tell whether the Secret is as it
 * should be and which credentials the pods must run with, so a converged Database needs no read
 * of its Secret, and the operator's memory holds no password (nor the Secret's 0.3 KiB of data).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { isSubset, type KubeObject } from "../../runtime/client/mod.ts";
import { credentialsVersion } from "./credentials_version.ts";
import { connectionUri, desiredSecret, REPLICATION_PASSWORD_KEY, type Secret } from "./secret.ts";
import { type Database, type DatabaseSpec, POSTGRES_PORT, serviceHost } from "../api/mod.ts";
import {
  caFingerprint,
  certificateCurrent,
  PG_HBA,
  TLS_ANNOTATION,
  type TlsSettings,
} from "../tls/mod.ts";

/** A credentials Secret as the cache keeps it. */
export interface CachedSecret extends KubeObject {
  type?: string;
  /** Absent when the data is not in the shape this operator writes: then read it whole. */
  digest?: SecretDigest;
}

/** A digest of a credentials Secret's data. */
export interface SecretDigest {
  /** The pods' credentials annotation ({@linkcode credentialsVersion}) for this Secret. */
  credentials: string;
  /** A digest of what does not depend on the password: username, database, host and port. */
  connection: string;
  /** Whether it holds a replication password. */
  replication: boolean;
  /** With a server certificate and key: the fingerprint of its `ca.crt`. */
  ca?: string;
  /** Whether its `pg_hba.conf` is the operator's current {@linkcode PG_HBA}. */
  hba?: boolean;
}

function connectionDigest(username: string, database: string, host: string, port: string) {
  return createHash("sha256").update(JSON.stringify([username, database, host, port])).digest(
    "base64",
  ).slice(0, 12);
}

function decoded(secret: Secret, key: string): string | undefined {
  const encoded = secret.data?.[key];
  if (encoded === undefined) return undefined;
  try {
    return atob(encoded);
  } catch {
    return undefined;
  }
}

/**
 * The digest of a Secret's data, or `undefined` when it lacks a field, has an empty password, or
 * its `uri` does not match its other fields (the operator rewrites such a Secret).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { desiredSecret } from "./secret.ts";
 * import { digestSecret } from "./secret_digest.ts";
 *
 * const db = { metadata: { name: "db", namespace: "ns", uid: "u" }, spec: {} } as never;
 * const spec = { username: "app", databaseName: "app", replicas: 1 } as never;
 * const digest = digestSecret(desiredSecret(db, spec, "s3cret"));
 * assert.equal(digest?.replication, false);
 * assert.equal(JSON.stringify(digest).includes("s3cret"), false);
 * ```
 */
export function digestSecret(secret: Secret): SecretDigest | undefined {
  const [username, password, database, host, port, uri, cert, key, ca, hba] = [
    "username",
    "password",
    "database",
    "host",
    "port",
    "uri",
    "tls.crt",
    "tls.key",
    "ca.crt",
    "pg_hba.conf",
  ].map((key) => decoded(secret, key));
  const serving = Boolean(cert && key && ca);
  if (
    username === undefined || !password || database === undefined || host === undefined ||
    port === undefined || uri !== connectionUri(username, password, host, port, database, serving)
  ) {
    return undefined;
  }
  return {
    credentials: credentialsVersion(username, password),
    connection: connectionDigest(username, database, host, port),
    replication: !!decoded(secret, REPLICATION_PASSWORD_KEY),
    ...(serving ? { ca: caFingerprint(ca!), hba: hba === PG_HBA } : {}),
  };
}

/**
 * Whether a cached Secret is what {@linkcode desiredSecret} would make for `db` with the
 * passwords it already holds and, with `tls`, a server certificate of the current CA that is
 * not yet due for renewal: then nothing needs writing and the pods' credentials annotation is
 * its digest's.
 */
export function secretUpToDate(
  cached: CachedSecret,
  db: Database,
  spec: DatabaseSpec,
  tls?: TlsSettings,
): boolean {
  const digest = cached.digest;
  if (!digest) return false;
  const { data: _, ...desired } = desiredSecret(db, spec, "");
  return isSubset(desired, cached) &&
    digest.connection ===
      connectionDigest(spec.username, spec.databaseName, serviceHost(db), String(POSTGRES_PORT)) &&
    (spec.replicas <= 1 || digest.replication) &&
    (!tls || (digest.ca === tls.ca.fingerprint && digest.hba === true &&
      certificateCurrent(cached.metadata.annotations?.[TLS_ANNOTATION], db, tls)));
}
