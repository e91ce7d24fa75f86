/**
 * The instance side of high availability: with standbys, every pod's main process is
 * `instance_manager.sh` (bash, in the Database's image, which needs `curl`), not the server
 * itself. Once a second it reads its own Database through the API server, with the pod's
 * ServiceAccount token (a Role lets it `get` that one Database, see `ha/instance_access.ts`),
 * and keeps PostgreSQL in the role the operator decided:
 *
 * - `status.currentPrimary` names this pod (and `targetPrimary` is empty or this pod): run as
 *   the primary, promoting a running standby (`pg_ctl promote`);
 * - otherwise stream from `targetPrimary` if set, else `currentPrimary`. A data directory that
 *   was a primary's is first rewound to the new primary (`pg_rewind`, which needs
 *   `wal_log_hints`, set from the first start), falling back to a fresh `pg_basebackup` only
 *   after three failed rewinds; a standby resumes from its own data directory and, when the
 *   primary changes, only reloads its `primary_conninfo`.
 *
 * Fencing: a running primary that sees another pod in `currentPrimary` or `targetPrimary`
 * kills its server at once (SIGKILL to every postgres process of the pod, so a stopped or hung
 * server goes too). A primary that has reached neither the API server nor any peer for 3 s is
 * isolated and does the same; it starts again only when the API server says it is still the
 * primary. The operator promotes a standby on a lost node only after that node's Lease is
 * older than its renew interval plus `FENCE_BUDGET_MS`, by which time such a primary has
 * stopped: an old primary never accepts a write after it lost the role, also when only its
 * node's network is cut and a client on the same node can still reach it. A primary that still
 * reaches a peer keeps serving while the API server is down, so an API outage does not stop
 * every database.
 *
 * The settings it owns are in `instance.conf` in the data directory, included from
 * `postgresql.conf`: `primary_conninfo` (with `application_name` = the pod),
 * `synchronous_standby_names = 'ANY K (…the other pods…)'` from `spec.synchronousReplicas`,
 * `wal_log_hints`, `hot_standby`, `wal_keep_size` and `recovery_target_timeline = latest`.
 * SIGTERM stops the server with a fast shutdown, which sends the standbys all WAL first.
 *
 * @module
 */
import script from "./instance_manager.sh" with { type: "text" };

const HEADER = /^#![^\n]*\n(#[^\n]*\n)*\n/;

/**
 * The main container's program with standbys, `instance_manager.sh` without its header. Reads
 * `PGDATA`, `POSTGRES_USER`, `POSTGRES_PASSWORD`, `REPLICATION_PASSWORD`, `DATABASE_NAME`,
 * `POD_NAMESPACE` and `PODS_SERVICE`; `spec.replicas` and `spec.synchronousReplicas` it reads
 * from the Database with the rest, so a scale or a new quorum restarts no pod.
 */
export const INSTANCE_MANAGER_SCRIPT: string = script.replace(HEADER, "");
