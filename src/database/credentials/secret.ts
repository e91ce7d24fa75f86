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

/**
 * The Secret as it should be, keeping `password` (plain text) and, when given, the replication
 * role's password.
 */
export function desiredSecret(
  db: Database,
  spec: DatabaseSpec,
  password: string,
  replicationPassword?: string,
): Secret {
  const host = serviceHost(db);
  const plain: Record<string, string> = {
    username: spec.username,
    password,
    database: spec.databaseName,
    host,
    port: String(POSTGRES_PORT),
    uri: connectionUri(spec.username, password, host, String(POSTGRES_PORT), spec.databaseName),
    ...(replicationPassword ? { [REPLICATION_PASSWORD_KEY]: replicationPassword } : {}),
  };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: ownedMetadata(db, secretName(db)),
    type: "Opaque",
    data: Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, btoa(v)])),
  };
}

/** The Secret's `uri`: a libpq connection URI with the credentials in it. */
export function connectionUri(
  username: string,
  password: string,
  host: string,
  port: string,
  database: string,
): string {
  return `postgresql://${encodeURIComponent(username)}:${encodeURIComponent(password)}@` +
    `${host}:${port}/${encodeURIComponent(database)}`;
}

/** The password stored in a Secret under `key`, if it has a usable one. */
export function passwordOf(secret: Secret | undefined, key = "password"): string | undefined {
  const encoded = secret?.data?.[key];
  if (!encoded) return undefined;
  const password = atob(encoded);
  return password.length > 0 ? password : undefined;
}
