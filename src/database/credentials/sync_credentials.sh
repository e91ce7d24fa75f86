#!/bin/bash
# shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is split into arguments, as the image does.
# The init container "sync-credentials" of every Database pod (sync_credentials.ts). The lines
# up to the first blank one are for readers and shellcheck; the pod runs what follows them.

set -eo pipefail
if [ -n "$REPLICATION_PASSWORD" ]; then
  # With standbys, the operator decides which instance is the primary (status.currentPrimary);
  # this pod reads it from its own Database, and starts nothing before it knows.
  SA="${SERVICE_ACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"
  API="https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}/apis/database.example.com/v1/namespaces/${POD_NAMESPACE}/databases/${DATABASE_NAME}"
  tries=0
  until body="$(curl -fsS --connect-timeout 2 --max-time 5 --cacert "$SA/ca.crt" \
    -H "Authorization: Bearer $(cat "$SA/token")" "$API")"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then
      echo "The API server did not answer for 10 minutes" | tee /dev/termination-log >&2
      exit 1
    fi
    sleep 2
  done
  primary="$({ grep -o '"currentPrimary": *"[^"]*"' <<<"$body" || true; } | head -n 1 | sed 's/.*: *"\(.*\)"$/\1/')"
  [ -n "$primary" ] || primary="${DATABASE_NAME}-0"
  if [ "$primary" != "$HOSTNAME" ]; then
    if [ -s "$PGDATA/PG_VERSION" ]; then
      # A standby resumes from its own data directory; a former primary is rewound by the
      # instance manager before it streams.
      echo "Standby of $primary: keeping the data directory."
      exit 0
    fi
    host="$primary.$PODS_SERVICE"
    echo "Standby of $primary: waiting for it to copy its data directory."
    tries=0
    until pg_isready -q -h "$host" -p 5432; do
      tries=$((tries + 1))
      if [ "$tries" -gt 300 ]; then
        echo "The primary $host did not answer for 10 minutes" | tee /dev/termination-log >&2
        exit 1
      fi
      sleep 2
    done
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    find "$PGDATA" -mindepth 1 -delete
    PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h "$host" -p 5432 \
      -U streaming_replica -D "$PGDATA" -X stream -c fast
    touch "$PGDATA/standby.signal"
    echo "Standby of $primary: copied; it streams from it once started."
    exit 0
  fi
  if [ -f "$PGDATA/standby.signal" ]; then
    # Chosen as the primary while still a standby: the instance manager promotes it.
    echo "Primary-elect with a standby's data directory: the instance manager promotes it."
    exit 0
  fi
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
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'streaming_replica') THEN
    ALTER ROLE streaming_replica WITH REPLICATION LOGIN PASSWORD $(literal "$REPLICATION_PASSWORD");
  ELSE
    CREATE ROLE streaming_replica WITH REPLICATION LOGIN PASSWORD $(literal "$REPLICATION_PASSWORD");
  END IF;
END \$\$;

SQL
  if ! grep -q '^host replication streaming_replica ' "$PGDATA/pg_hba.conf"; then
    printf '\nhost replication streaming_replica all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  fi
  echo "Role streaming_replica can stream, with the Secret's replication password."
fi
