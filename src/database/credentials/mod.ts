/**
 * The credentials: the Secret `<name>-credentials` (the source of truth for the role, its
 * password and the replication role's), its digest in the cache, the pods' credentials version,
 * and the init container `sync_credentials.sh` that makes the data directory agree with it.
 *
 * Owns: passwords and the Secret's keys. May import: `api/`, `objects/`, `src/runtime/`.
 *
 * @module
 */
export * from "./secret.ts";
export * from "./secret_digest.ts";
export * from "./secret_projection.ts";
export * from "./credentials_version.ts";
export * from "./sync_credentials.ts";
export * from "./ensure_secret.ts";
