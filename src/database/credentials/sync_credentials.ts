/**
 * Keeping PostgreSQL's role in step with the credentials Secret, which is the source of truth.
 *
 * The official image applies `POSTGRES_USER`/`POSTGRES_PASSWORD`/`POSTGRES_DB` only when it
 * initialises an empty data directory; volumes outlive Databases and Secrets, and passwords get
 * rotated. So every pod starts with an init container, `sync_credentials.sh`, that
 * runs in the Database's own image before the server: on an existing data directory it sets the
 * role's password from the Secret (creating the role, and the database, if they are missing)
 * through PostgreSQL's single-user mode, which needs no running server, no network and no other
 * password. The pod template carries {@linkcode credentialsVersion}, a digest of the Secret's
 * username and password, so a changed Secret rolls the pods and the new password is in force as
 * soon as the new pod is Ready.
 *
 * The same container refuses a data directory of another major version than the image's, with a
 * termination message saying so, instead of letting the server crash-loop.
 *
 * With standbys (`replicas` above 1) it also prepares replication. It reads the Database's
 * `status.currentPrimary` from the API server (the operator decides the primary, never the
 * ordinal): on the primary it initialises an empty data directory itself, so the replication role
 * exists from the first start, and keeps the role `streaming_replica` and its `pg_hba.conf` line
 * in step with the Secret's `replication-password`; on a standby with an empty volume it copies
 * the primary with `pg_basebackup`, and an existing standby keeps its data directory (the
 * instance manager rewinds a former primary, see `instances/instance_manager.ts`).
 *
 * @module
 */
import script from "./sync_credentials.sh" with { type: "text" };

/** The header of `sync_credentials.sh`: comments up to the first blank line. */
const HEADER = /^#![^\n]*\n(#[^\n]*\n)*\n/;

/**
 * The init container's program (bash, as in the official image), `sync_credentials.sh` without
 * its header. Reads `PGDATA`, `POSTGRES_USER`, `POSTGRES_PASSWORD` and `POSTGRES_DB` from its
 * environment, and with standbys `REPLICATION_PASSWORD` and `PRIMARY_HOST`. SQL goes to the
 * server on standard input, never on a command line; quotes in names and passwords are doubled.
 */
export const SYNC_CREDENTIALS_SCRIPT: string = script.replace(HEADER, "");
