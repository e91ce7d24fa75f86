#!/usr/bin/env bash
# Entry point of the harness's PostgreSQL images (postgres:17, postgres:15), written for this
# project from the documented contract of the official `postgres` image:
# - POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER
#   (default postgres), POSTGRES_DB (default: the user's name), POSTGRES_INITDB_ARGS,
#   POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), and a *_FILE
#   variant of each that reads the value from a file;
# - PGDATA (default /var/lib/postgresql/data) is initialised only when it holds no PG_VERSION;
#   then /docker-entrypoint-initdb.d/*.sh, *.sql and *.sql.gz run once, in name order;
# - an existing data directory is started as it is: the variables above are not applied again;
# - started as root, it prepares PGDATA and the socket folder and drops to postgres (999:999);
#   started as any other user it needs a writable PGDATA;
# - `docker run postgres -c key=value` passes flags to postgres; any other command runs as is.
set -Eeo pipefail

fail() {
  echo "docker-entrypoint.sh: $*" >&2
  exit 1
}

# file_env VAR [DEFAULT]: VAR from $VAR, or from the file named by $VAR_FILE, or DEFAULT.
file_env() {
  local var="$1" file_var="${1}_FILE" default="${2:-}"
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    fail "both $var and $file_var are set (but are exclusive)"
  fi
  local value="$default"
  if [ -n "${!var:-}" ]; then
    value="${!var}"
  elif [ -n "${!file_var:-}" ]; then
    value="$(<"${!file_var}")"
  fi
  export "$var"="$value"
  unset "$file_var"
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
  : "${PGDATA:=/var/lib/postgresql/data}"
  export PGDATA POSTGRES_HOST_AUTH_METHOD
  DATABASE_ALREADY_EXISTS=
  [ -s "$PGDATA/PG_VERSION" ] && DATABASE_ALREADY_EXISTS=true
  return 0
}

create_directories() {
  local user
  user="$(id -u)"
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" 2>/dev/null || :
  mkdir -p /var/run/postgresql 2>/dev/null || :
  chmod 03775 /var/run/postgresql 2>/dev/null || :
  if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
    mkdir -p "$POSTGRES_INITDB_WALDIR"
    [ "$user" = 0 ] && chown -R postgres:postgres "$POSTGRES_INITDB_WALDIR"
    chmod 700 "$POSTGRES_INITDB_WALDIR"
  fi
  if [ "$user" = 0 ]; then
    chown -R postgres:postgres "$PGDATA"
    chown postgres:postgres /var/run/postgresql 2>/dev/null || :
  fi
}

verify_minimum_env() {
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    fail "the database is uninitialized and POSTGRES_PASSWORD is not set; set it (or" \
      "POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without a password)"
  fi
}

init_database_dir() {
  local args=(--username="$POSTGRES_USER")
  [ -n "${POSTGRES_INITDB_WALDIR:-}" ] && args+=(--waldir="$POSTGRES_INITDB_WALDIR")
  # The password travels through a pipe (process substitution), never a file or the command line.
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of flags, as documented.
  initdb "${args[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS
}

setup_hba_conf() {
  {
    echo
    echo "# Added by docker-entrypoint.sh: every other connection, by POSTGRES_HOST_AUTH_METHOD."
    echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
  } >>"$PGDATA/pg_hba.conf"
}

# The server that runs the initialisation: reachable only through the Unix socket.
temp_server_start() {
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -w \
    -o "-c listen_addresses='' -p ${PGPORT:-5432}" start
}

temp_server_stop() {
  PGUSER="$POSTGRES_USER" pg_ctl -D "$PGDATA" -m fast -w stop
}

run_psql() {
  PGPASSWORD= psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"
}

create_database() {
  [ "$POSTGRES_DB" = postgres ] && return 0
  local exists
  exists="$(run_psql --dbname postgres --set db="$POSTGRES_DB" --tuples-only <<<"
    SELECT 1 FROM pg_database WHERE datname = :'db';")"
  [ -n "${exists//[[:space:]]/}" ] || run_psql --dbname postgres --set db="$POSTGRES_DB" <<<"
    CREATE DATABASE :\"db\";"
}

run_init_scripts() {
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then
          echo "docker-entrypoint.sh: running $f"
          "$f"
        else
          echo "docker-entrypoint.sh: sourcing $f"
          # shellcheck disable=SC1090
          . "$f"
        fi
        ;;
      *.sql) echo "docker-entrypoint.sh: running $f"; run_psql --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "docker-entrypoint.sh: running $f"; gunzip -c "$f" | run_psql --dbname "$POSTGRES_DB" ;;
      *) echo "docker-entrypoint.sh: ignoring $f" ;;
    esac
  done
}

main() {
  if [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
  fi
  if [ "$1" != postgres ]; then
    exec "$@"
  fi
  setup_env
  create_directories
  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
  fi
  if [ -z "$DATABASE_ALREADY_EXISTS" ]; then
    verify_minimum_env
    init_database_dir
    setup_hba_conf
    temp_server_start
    create_database
    run_init_scripts
    temp_server_stop
    echo
    echo "docker-entrypoint.sh: PostgreSQL init process complete; ready for start up."
    echo
  else
    echo
    echo "docker-entrypoint.sh: PostgreSQL database directory appears to contain a database;" \
      "skipping initialization"
    echo
  fi
  exec "$@"
}

main "$@"
