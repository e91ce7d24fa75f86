/**
 * Keeping PostgreSQL's role in step with the credentials Secret, which is the source of truth.
 *
 * The official image applies `POSTGRES_USER`/`POSTGRES_PASSWORD`/`POSTGRES_DB` only when it
 * initialises an empty data directory; volumes outlive Databases and Secrets, and passwords get
 * rotated. So every pod starts with an init container, {@linkcode SYNC_CREDENTIALS_SCRIPT}, that
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
 * With standbys (`replicas` above 1) it also prepares replication: on the primary (ordinal 0)
 * it initialises an empty data directory itself, so the replication role exists from the first
 * start, and keeps the role `streaming_replica` and its `pg_hba.conf` line in step with the
 * Secret's `replication-password`; on a standby it waits for the primary and copies it afresh
 * with `pg_basebackup` at every start, so a standby never serves a volume that may be stale.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { REPLICATION_USER } from "./secret.ts";

/** Pod template annotation whose change restarts the pods with the Secret's credentials. */
export const CREDENTIALS_ANNOTATION = "database.example.com/credentials-version";

/** A digest of the credentials (not reversible; it only has to change when they do). */
export function credentialsVersion(username: string, password: string): string {
  return createHash("sha256").update(`${username}\n${password}`).digest("hex").slice(0, 16);
}

/**
 * The init container's program (bash, as in the official image). Reads `PGDATA`,
 * `POSTGRES_USER`, `POSTGRES_PASSWORD` and `POSTGRES_DB` from its environment. SQL goes to the
 * server on standard input, never on a command line; quotes in names and passwords are doubled.
 */
export const SYNC_CREDENTIALS_SCRIPT = String.raw`set -eo pipefail
ordinal="$(printf '%s' "$HOSTNAME" | sed 's/.*-//')"
if [ -n "$REPLICATION_PASSWORD" ] && [ "$ordinal" != 0 ]; then
  # A standby is always copied afresh from the primary: it never starts from data that may be
  # stale, from another timeline or from another cluster.
  echo "Standby $ordinal: waiting for the primary $PRIMARY_HOST."
  tries=0
  until pg_isready -q -h "$PRIMARY_HOST" -p 5432; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then
      echo "The primary $PRIMARY_HOST did not answer for 10 minutes" | tee /dev/termination-log >&2
      exit 1
    fi
    sleep 2
  done
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  find "$PGDATA" -mindepth 1 -delete
  PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h "$PRIMARY_HOST" -p 5432 \
    -U ${REPLICATION_USER} -D "$PGDATA" -X stream -R -c fast
  echo "Standby $ordinal: copied from the primary; it streams from it once started."
  exit 0
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "$REPLICATION_PASSWORD" ]; then
    echo "No data directory yet: the server initialises it with the Secret's credentials."
    exit 0
  fi
  # With standbys, the primary is initialised here, so that its replication role exists from
  # its first start; the server's entry point then finds a data directory and starts it.
  echo "Initialising the primary's data directory."
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  initdb -D "$PGDATA" --username="$POSTGRES_USER" \
    --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS >/dev/null
  printf '\nhost all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
fi
data_major="$(cat "$PGDATA/PG_VERSION")"
server_major="$(postgres --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')"
if [ "$data_major" != "$server_major" ]; then
  message="The data directory was initialised by PostgreSQL $data_major and this image runs PostgreSQL $server_major. A major version upgrade needs pg_upgrade or a dump and restore; set spec.image back to a PostgreSQL $data_major image to start the database again."
  echo "$message" >&2
  echo "$message" > /dev/termination-log 2>/dev/null || true
  exit 1
fi
literal() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }
identifier() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
role_literal="$(literal "$POSTGRES_USER")"
role="$(identifier "$POSTGRES_USER")"
password="$(literal "$POSTGRES_PASSWORD")"
# A pod that was killed leaves postmaster.pid naming PID 1; that is this shell now.
export PG_GRANDPARENT_PID=1
# -j: a statement ends at a semicolon followed by an empty line, not at every newline.
single() {
  postgres --single -j -D "$PGDATA" -c exit_on_error=on -c listen_addresses='' \
    -c log_min_messages=warning postgres
}
single >/dev/null <<SQL
DO \$\$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = $role_literal) THEN
    ALTER ROLE $role WITH LOGIN PASSWORD $password;
  ELSE
    CREATE ROLE $role WITH SUPERUSER LOGIN PASSWORD $password;
  END IF;
END \$\$;

SQL
found="$(single <<SQL
SELECT 1 AS found FROM pg_database WHERE datname = $(literal "$POSTGRES_DB");

SQL
)"
if ! grep -q 'found = "1"' <<<"$found"; then
  printf 'CREATE DATABASE %s OWNER %s;\n\n' "$(identifier "$POSTGRES_DB")" "$role" | single >/dev/null
  echo "Created database $POSTGRES_DB."
fi
echo "Role $POSTGRES_USER has the Secret's password."
if [ -n "$REPLICATION_PASSWORD" ]; then
  single >/dev/null <<SQL
DO \$\$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${REPLICATION_USER}') THEN
    ALTER ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD $(literal "$REPLICATION_PASSWORD");
  ELSE
    CREATE ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD $(literal "$REPLICATION_PASSWORD");
  END IF;
END \$\$;

SQL
  if ! grep -q '^host replication ${REPLICATION_USER} ' "$PGDATA/pg_hba.conf"; then
    printf '\nhost replication ${REPLICATION_USER} all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  fi
  echo "Role ${REPLICATION_USER} can stream, with the Secret's replication password."
fi
`;
