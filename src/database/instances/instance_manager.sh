#!/bin/bash
# The main process of every Database pod when replicas > 1 (instance_manager.ts): it runs
# PostgreSQL in the role the operator decided (status.currentPrimary), promotes, demotes with
# pg_rewind, follows a new primary, and fences a primary that lost its role or its cluster.
# The lines up to the first blank one are for readers and shellcheck; the pod runs the rest.

set -uo pipefail
SA="${SERVICE_ACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"
API="https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}/apis/database.example.com/v1/namespaces/${POD_NAMESPACE}/databases/${DATABASE_NAME}"
ME="$HOSTNAME"
# A primary that has reached neither the API server nor a peer for this long stops serving.
FENCE_AFTER="${FENCE_AFTER_SECONDS:-3}"
CONF="$PGDATA/instance.conf"
pg_pid=""     # the postmaster this process started
role=""       # primary, standby, or empty while no server runs
following=""  # the primary a running standby streams from
rewinds=0     # failed rewinds since the last successful start
last_ok=$SECONDS
current=""
target=""
replicas=0    # spec.replicas and spec.synchronousReplicas, as last read
sync=0
conf_sync=""  # synchronous_standby_names as last written
POSTGRES_ARGS=("$@")  # server settings from the pod spec (spec.backup's archiving)

log() { printf '%s instance %s: %s\n' "$(date -u +%FT%TZ)" "$ME" "$*"; }
host_of() { printf '%s.%s' "$1" "$PODS_SERVICE"; }

# Reads status.currentPrimary and status.targetPrimary of this pod's Database.
read_status() {
  local body
  body="$(curl -fsS --connect-timeout 1 --max-time 2 --cacert "$SA/ca.crt" \
    -H "Authorization: Bearer $(cat "$SA/token")" "$API" 2>/dev/null)" || return 1
  current="$(field "$body" currentPrimary)"
  target="$(field "$body" targetPrimary)"
  replicas="$(number "$body" replicas)"
  sync="$(number "$body" synchronousReplicas)"
  [ -n "$sync" ] || sync=0
  # Before the operator's first status write, the creation default.
  [ -n "$current" ] || current="${DATABASE_NAME}-0"
}
# The API server indents JSON for curl: `"name": "value"`.
field() { { grep -o "\"$2\": *\"[^\"]*\"" <<<"$1" || true; } | head -n 1 | sed 's/.*: *"\(.*\)"$/\1/'; }
number() { { grep -o "\"$2\": *[0-9][0-9]*" <<<"$1" || true; } | head -n 1 | sed 's/.*: *//'; }

primary_wanted() { [ "$current" = "$ME" ] && { [ -z "$target" ] || [ "$target" = "$ME" ]; }; }

# synchronous_standby_names: ANY K of the other instances, by their application_name.
sync_names() {
  [ "$sync" -gt 0 ] || return 0
  local names="" i
  for ((i = 0; i < replicas; i++)); do
    [ "${DATABASE_NAME}-$i" = "$ME" ] && continue
    names="${names:+$names,}\"${DATABASE_NAME}-$i\""
  done
  printf "ANY %s (%s)" "$sync" "$names"
}

# The settings this process owns; the server includes the file from postgresql.conf.
write_conf() {
  local primary="$1" conninfo=""
  conf_sync="$(sync_names)"
  if [ -n "$primary" ]; then
    conninfo="host=$(host_of "$primary") port=5432 user=streaming_replica password=${REPLICATION_PASSWORD//\'/\'\'} application_name=$ME"
  fi
  {
    echo "wal_log_hints = on"
    echo "hot_standby = on"
    echo "wal_keep_size = '512MB'"
    echo "recovery_target_timeline = 'latest'"
    echo "synchronous_standby_names = '$conf_sync'"
    echo "primary_conninfo = '${conninfo//\'/\'\'}'"
  } >"$CONF.tmp"
  chmod 600 "$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  grep -q "^include_if_exists = 'instance.conf'" "$PGDATA/postgresql.conf" ||
    printf "\ninclude_if_exists = 'instance.conf'\n" >>"$PGDATA/postgresql.conf"
  # pg_basebackup -R and older versions wrote it here, where it would win over instance.conf.
  sed -i '/^primary_conninfo/d' "$PGDATA/postgresql.auto.conf" 2>/dev/null || true
}

launch() {
  postgres -D "$PGDATA" "${POSTGRES_ARGS[@]}" &
  pg_pid=$!
  rewinds=0
}

start_primary() {
  write_conf ""
  if [ -f "$PGDATA/standby.signal" ]; then
    # Chosen while this was a standby: start it as one, then promote it to a new timeline.
    log "starting the standby that is to be promoted"
    launch
    role=standby
    following=""
    local tries=0
    until pg_ctl status -D "$PGDATA" >/dev/null 2>&1 && pg_isready -q -h /var/run/postgresql; do
      tries=$((tries + 1))
      [ "$tries" -gt 600 ] && return 0
      kill -0 "$pg_pid" 2>/dev/null || return 0
      sleep 0.2
    done
    promote
    return 0
  fi
  log "starting as the primary"
  launch
  role=primary
  following=""
}

# The primary answers and is out of recovery: a rewind or a stream against it can work.
primary_serves() {
  [ "$(PGPASSWORD="$POSTGRES_PASSWORD" PGCONNECT_TIMEOUT=3 psql -h "$(host_of "$1")" \
    -U "$POSTGRES_USER" -d postgres -XtAc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]
}

start_standby() {
  local primary="$1"
  primary_serves "$primary" || return 0
  if [ ! -f "$PGDATA/standby.signal" ]; then
    # This data directory was a primary's: it may hold WAL the new primary never saw.
    log "rewinding to $primary"
    if PGPASSWORD="$POSTGRES_PASSWORD" pg_rewind --target-pgdata="$PGDATA" --progress \
      --source-server="host=$(host_of "$primary") port=5432 user=$POSTGRES_USER dbname=postgres connect_timeout=5"; then
      log "rewound to $primary"
    else
      rewinds=$((rewinds + 1))
      [ "$rewinds" -lt 3 ] && return 0
      log "pg_rewind failed $rewinds times: copying $primary afresh with pg_basebackup"
      find "$PGDATA" -mindepth 1 -delete
      PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h "$(host_of "$primary")" -p 5432 \
        -U streaming_replica -D "$PGDATA" -X stream -c fast || return 0
    fi
    touch "$PGDATA/standby.signal"
  fi
  log "starting as a standby of $primary"
  write_conf "$primary"
  launch
  role=standby
  following="$primary"
}

promote() {
  log "promoting: the operator made this instance the primary"
  write_conf ""
  pg_ctl promote -D "$PGDATA" -w -t 60 || { log "promotion failed"; return 0; }
  role=primary
  following=""
}

follow() {
  log "following the new primary $1"
  write_conf "$1"
  kill -HUP "$pg_pid"
  following="$1"
}

# Stops the server at once: every postgres process of this pod, also stopped or hung ones.
fence() {
  log "fencing: $*"
  local proc pid
  for proc in /proc/[0-9]*; do
    pid="${proc#/proc/}"
    [ "$pid" = "$$" ] && continue
    [ "$(cat "$proc/comm" 2>/dev/null)" = postgres ] && kill -KILL "$pid" 2>/dev/null
  done
  wait "$pg_pid" 2>/dev/null
  pg_pid=""
  role=""
  following=""
}

# Whether any other instance's PostgreSQL answers: a primary that reaches a peer is not isolated.
# Asked of all peers at once, each bounded (name resolution too) to a second.
peer_reachable() {
  local i pids=()
  for ((i = 0; i < replicas; i++)); do
    [ "${DATABASE_NAME}-$i" = "$ME" ] && continue
    timeout 1 pg_isready -q -t 1 -h "$(host_of "${DATABASE_NAME}-$i")" -p 5432 &
    pids+=("$!")
  done
  for i in "${pids[@]}"; do
    wait "$i" && return 0
  done
  return 1
}

on_term() {
  log "stopping"
  [ -n "$pg_pid" ] && pg_ctl stop -D "$PGDATA" -m fast -w -t 25
  exit 0
}
trap on_term TERM INT

log "started; the operator decides this instance's role"
while true; do
  if [ -n "$pg_pid" ] && ! kill -0 "$pg_pid" 2>/dev/null; then
    wait "$pg_pid"
    log "the server exited with status $?"
    pg_pid=""
    role=""
    following=""
  fi
  if read_status; then
    last_ok=$SECONDS
    if primary_wanted; then
      case "$role" in
        primary)
          # spec.replicas or spec.synchronousReplicas changed: a reload applies it.
          if [ "$(sync_names)" != "$conf_sync" ]; then
            write_conf ""
            kill -HUP "$pg_pid"
            log "synchronous_standby_names = '$conf_sync'"
          fi
          ;;
        standby) promote ;;
        *) start_primary ;;
      esac
    else
      # During a change of primary, stream from the one being promoted.
      upstream="$current"
      [ -n "$target" ] && [ "$target" != "$ME" ] && upstream="$target"
      case "$role" in
        primary)
          if [ "$current" = "$ME" ]; then
            # A switchover, or a failover from a primary that may be hung: a fast shutdown
            # first sends the standbys every WAL record; what does not stop in time is killed.
            log "stopping: the operator is moving the primary to $target"
            if timeout 5 pg_ctl stop -D "$PGDATA" -m fast -w -t 4 >/dev/null 2>&1; then
              wait "$pg_pid" 2>/dev/null
              pg_pid=""
              role=""
              log "stopped cleanly"
            else
              fence "the server did not stop in time"
            fi
          else
            fence "the operator made $current the primary"
          fi
          ;;
        standby) [ "$following" = "$upstream" ] || follow "$upstream" ;;
        *) start_standby "$upstream" ;;
      esac
    fi
  elif [ "$role" = primary ] && [ $((SECONDS - last_ok)) -ge "$FENCE_AFTER" ] && ! peer_reachable; then
    fence "isolated: neither the API server nor any peer answered for ${FENCE_AFTER}s"
  fi
  sleep 1 &
  wait $!
done
