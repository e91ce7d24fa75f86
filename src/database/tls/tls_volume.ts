/**
 * The credentials Secret's TLS keys as a pod volume: read-only files with mode 0640 (root-owned,
 * group `postgres` through the pod's `fsGroup`: PostgreSQL accepts a key file of root that its
 * group may read), all at {@linkcode TLS_DIR}, where the server's settings name them.
 *
 * @module
 */

/** Where a pod sees the Secret's `tls.crt`, `tls.key`, `ca.crt` and `pg_hba.conf`. */
export const TLS_DIR = "/etc/postgres-tls";
/** The volume's name in a pod. */
export const TLS_VOLUME = "tls";

/**
 * The volume of `keys` of the Secret `secretName`; `optional` for a pod that must start also
 * when the Secret holds none of them (a Database without TLS).
 */
export function tlsVolume(secretName: string, keys: string[], optional = false) {
  return {
    name: TLS_VOLUME,
    secret: {
      secretName,
      defaultMode: 0o640,
      items: keys.map((key) => ({ key, path: key })),
      ...(optional ? { optional } : {}),
    },
  };
}
