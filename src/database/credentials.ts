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
 * @module
 */
import { createHash } from "node:crypto";

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
export const SYNC_CREDENTIALS_SCRIPT = String.raw`set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "No data directory yet: the server initialises it with the Secret's credentials."
  exit 0
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
`;
