/**
 * What a Database pod needs to serve TLS: the server certificate, its key, the CA and the
 * operator's `pg_hba.conf` (TLS only) from the credentials Secret (`tls/tls_volume.ts`), and the
 * server settings that use them. The key never leaves the Secret and this volume.
 *
 * @module
 */
import { type Database, secretName } from "../api/mod.ts";
import { PG_HBA_DIGEST, TLS_ANNOTATION, TLS_DIR, TLS_VOLUME, tlsVolume } from "../tls/mod.ts";

/** The pod annotation naming the `pg_hba.conf` rules it runs with. */
export const PG_HBA_ANNOTATION = "database.example.com/pg-hba";

/**
 * The volume, its mount, postgres's `-c` settings, and the pod annotation naming the
 * certificate (`certificate`, the Secret's `TLS_ANNOTATION`): a renewed one rolls the pods,
 * the switchover-safe way with standbys, so no server keeps serving one about to expire.
 * Nothing when TLS is off.
 */
export function tlsPodAdditions(db: Database, certificate: string | undefined) {
  if (!certificate) return { volumes: [], mounts: [], postgresArgs: [], annotations: {} };
  return {
    annotations: { [TLS_ANNOTATION]: certificate, [PG_HBA_ANNOTATION]: PG_HBA_DIGEST },
    volumes: [tlsVolume(secretName(db), ["tls.crt", "tls.key", "ca.crt", "pg_hba.conf"])],
    mounts: [{ name: TLS_VOLUME, mountPath: TLS_DIR, readOnly: true }],
    postgresArgs: [
      "-c",
      "ssl=on",
      "-c",
      `ssl_cert_file=${TLS_DIR}/tls.crt`,
      "-c",
      `ssl_key_file=${TLS_DIR}/tls.key`,
      "-c",
      `ssl_ca_file=${TLS_DIR}/ca.crt`,
      "-c",
      `hba_file=${TLS_DIR}/pg_hba.conf`,
    ],
  };
}
