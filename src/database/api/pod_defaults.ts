/**
 * What every pod of a Database shares, the instances' and a Backup's Job's alike: PostgreSQL's
 * uid (999, as in the official image), the pod and container security contexts, and where the
 * data volume is mounted.
 *
 * @module
 */

/** The uid and gid PostgreSQL runs as. */
export const POSTGRES_UID = 999;

/** Where the data volume is mounted; `PGDATA` is `pgdata` below it. */
export const DATA_DIR = "/var/lib/postgresql/data";

/**
 * A fresh pod security context: non-root as {@linkcode POSTGRES_UID}, RuntimeDefault seccomp, and no recursive chown of a
 * large data directory at every start (`fsGroupChangePolicy: OnRootMismatch`).
 */
export const podSecurityContext = () => ({
  runAsNonRoot: true,
  runAsUser: POSTGRES_UID,
  runAsGroup: POSTGRES_UID,
  fsGroup: POSTGRES_UID,
  fsGroupChangePolicy: "OnRootMismatch",
  seccompProfile: { type: "RuntimeDefault" },
});

/** A fresh container security context: a read-only root filesystem, no capabilities, no privilege escalation. */
export const containerSecurityContext = () => ({
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
});
