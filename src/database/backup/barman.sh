#!/bin/bash
# What runs barman-cloud in a Database's pods (barman.ts): the archive_command and
# restore_command of PostgreSQL, the base backup of a Backup's Job, and the restore of a new
# Database from a store. The lines up to the first blank one are for readers and shellcheck;
# the pod runs the rest as `bash -c "$BARMAN_SCRIPT" barman <command> <arguments>`.

set -uo pipefail
command="${1:-}"
shift || true

fail() {
  echo "$*" >&2
  echo "$*" >/dev/termination-log 2>/dev/null || true
  exit 1
}

# A restore that cannot work as specified: exit 3, which the operator reads as RestoreRefused
# and stops the instance instead of letting it restart (backup/restore_refusal.ts).
refuse() {
  echo "$*" >&2
  echo "$*" >/dev/termination-log 2>/dev/null || true
  exit 3
}

# Selects the store of spec.backup (BACKUP) or spec.restore (RESTORE): its URL, server name and
# endpoint from the environment, its credentials from the Secret's files, exported only to the
# barman-cloud processes this script starts.
use_store() {
  local prefix="$1" dir
  dir="${prefix}_DIR"
  dir="${!dir}"
  endpoint="${prefix}_ENDPOINT"
  endpoint="${!endpoint}"
  destination="${prefix}_DESTINATION"
  destination="${!destination}"
  server="${prefix}_SERVER"
  server="${!server}"
  command -v barman-cloud-wal-archive >/dev/null ||
    fail "This image has no barman-cloud-wal-archive: use one with barman-cli-cloud, such as postgres-operator/postgresql:17"
  { [ -r "$dir/accessKeyId" ] && [ -r "$dir/secretAccessKey" ]; } ||
    fail "The object store's Secret has no accessKeyId or secretAccessKey"
  AWS_ACCESS_KEY_ID="$(cat "$dir/accessKeyId")"
  AWS_SECRET_ACCESS_KEY="$(cat "$dir/secretAccessKey")"
  AWS_DEFAULT_REGION="$(cat "$dir/region" 2>/dev/null || echo us-east-1)"
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
  if [ -s "$dir/ca.crt" ]; then export AWS_CA_BUNDLE="$dir/ca.crt"; fi
}

# Backups in the store as JSON lines: id, name, status, begin and end time (epoch), WAL.
list_backups() {
  barman-cloud-backup-list --endpoint-url "$endpoint" --format json "$destination" "$server" |
    python3 -c '
import datetime, json, sys
def epoch(text):
    return datetime.datetime.fromisoformat(text).timestamp() if text else 0
for b in json.load(sys.stdin).get("backups_list", []):
    print(json.dumps({"id": b["backup_id"], "name": b.get("backup_name") or "",
        "status": b["status"], "begin": epoch(b.get("begin_time_iso") or ""),
        "end": epoch(b.get("end_time_iso") or ""), "beginWal": b.get("begin_wal") or "",
        "endWal": b.get("end_wal") or "",
        "size": b.get("size") or b.get("cluster_size") or 0}))'
}

case "$command" in
  archive)
    # archive_command: %p. A failure leaves the segment in pg_wal; PostgreSQL retries it.
    use_store BACKUP
    exec barman-cloud-wal-archive --endpoint-url "$endpoint" "$destination" "$server" "$1"
    ;;
  restore-wal)
    # restore_command: %f %p. Exit 1 tells PostgreSQL there is no such file, which ends a
    # recovery there; barman says so with 1 too. Any other failure (the store unreachable, a
    # broken download) must not end recovery early: an exit above 125 makes PostgreSQL abort
    # it, and the restore starts over.
    use_store RESTORE
    barman-cloud-wal-restore --endpoint-url "$endpoint" "$destination" "$server" "$1" "$2"
    status=$?
    case "$status" in
      0 | 1) exit "$status" ;;
      *)
        echo "barman-cloud-wal-restore of $1 failed ($status): aborting the recovery" >&2
        exit 255
        ;;
    esac
    ;;
  backup)
    # A Backup's Job, beside the instance: its data directory is mounted here, read-only.
    # Named after the Job: barman reserves some names (first, last, latest, oldest).
    name="backup-$1"
    use_store BACKUP
    barman-cloud-backup --endpoint-url "$endpoint" -h "$PGHOST" -p 5432 -U "$POSTGRES_USER" \
      -d postgres -n "$name" "$destination" "$server" || fail "barman-cloud-backup failed"
    found="$(list_backups | grep "\"name\": \"$name\"" | tail -n 1)"
    [ -n "$found" ] || fail "The backup $name is not in the store after barman-cloud-backup"
    echo "$found" >/dev/termination-log
    echo "$found"
    if [ -n "${BACKUP_RETENTION:-}" ]; then
      barman-cloud-backup-delete --endpoint-url "$endpoint" -m 1 \
        -r "RECOVERY WINDOW OF $BACKUP_RETENTION" "$destination" "$server" ||
        echo "Removing backups outside the retention window failed; the next backup retries" >&2
    fi
    ;;
  restore)
    # The first instance of a restored Database, before its credentials are set: the newest
    # backup that ended before the target, then WAL replayed to it, then promoted.
    # Present from the start of a restore to its end: a restore that was cut off starts over.
    marker="$(dirname "$PGDATA")/restore-in-progress"
    if [ -s "$PGDATA/PG_VERSION" ] && [ ! -e "$marker" ]; then
      echo "The data directory exists: nothing to restore."
      exit 0
    fi
    [ "$HOSTNAME" = "${RESTORE_INSTANCE:-$HOSTNAME}" ] ||
      { echo "Not the first instance: it copies the restored primary."; exit 0; }
    use_store RESTORE
    target="${RESTORE_TARGET_TIME:-}"
    # Epoch seconds, and the form recovery_target_time takes (RFC 3339's T and Z it refuses).
    read -r target_epoch target_pg < <(python3 -c '
import datetime, sys
if not sys.argv[1]:
    print(1e12, "-")
else:
    t = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
    utc = t.astimezone(datetime.timezone.utc)
    print(t.timestamp(), utc.strftime("%Y-%m-%d_%H:%M:%S.%f+00"))' "$target")
    backups="$(list_backups)" || fail "Listing the backups in $destination/$server failed"
    chosen="$(python3 -c '
import json, sys
lines = [line for line in sys.stdin.read().split("\n") if line.strip()]
done = [b for b in map(json.loads, lines) if b["status"] == "DONE"]
before = [b for b in done if b["end"] <= float(sys.argv[1])]
if before:
    print(max(before, key=lambda b: b["end"])["id"])
elif done:
    import datetime
    first = min(b["end"] for b in done)
    print("-" + datetime.datetime.fromtimestamp(first, datetime.timezone.utc).isoformat())
' "$target_epoch" <<<"$backups"$'\n')"
    [ -n "$chosen" ] || refuse "There is no completed backup in $destination/$server to restore"
    case "$chosen" in
      -*) refuse "spec.restore.targetTime $target is before the first recoverable point ${chosen#-}" ;;
    esac
    echo "Restoring backup $chosen of $destination/$server${target:+ to $target}."
    echo "Backups in the store: $backups"
    touch "$marker"
    mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
    find "$PGDATA" -mindepth 1 -delete
    barman-cloud-restore --endpoint-url "$endpoint" "$destination" "$server" "$chosen" "$PGDATA" ||
      fail "barman-cloud-restore of $chosen failed"
    {
      echo "# spec.restore: removed once recovery has finished"
      echo "restore_command = 'bash -c \"\$BARMAN_SCRIPT\" barman restore-wal %f %p'"
      echo "recovery_target_timeline = 'latest'"
      [ -n "$target" ] && echo "recovery_target_time = '${target_pg/_/ }'"
      [ -n "$target" ] && echo "recovery_target_action = 'promote'"
    } >"$PGDATA/restore.conf"
    printf "\ninclude_if_exists = 'restore.conf'\n" >>"$PGDATA/postgresql.conf"
    # The instance manager's settings of the source (its standbys, its upstream) are not ours.
    rm -f "$PGDATA/instance.conf" "$PGDATA/standby.signal"
    # A source with TLS served its rules from hba_file, outside the data directory: a backup
    # holds that file in its place, or (taken by an earlier version) the Secret volume's
    # symbolic link to it. The recovery server listens on its socket only; the pods name the
    # operator's file again.
    if [ -L "$PGDATA/pg_hba.conf" ] || [ ! -f "$PGDATA/pg_hba.conf" ]; then
      rm -f "$PGDATA/pg_hba.conf"
      echo "local all all trust" >"$PGDATA/pg_hba.conf"
    fi
    touch "$PGDATA/recovery.signal"
    export PG_GRANDPARENT_PID=1
    server_log="$(dirname "$PGDATA")/restore.log"
    postgres -D "$PGDATA" -c listen_addresses='' -c unix_socket_directories=/tmp \
      -c archive_mode=off 2>"$server_log" &
    pid=$!
    # PostgreSQL removes recovery.signal as recovery ends, before the new timeline is in
    # production. Stopped in between, the server would replay at its next start the WAL it had
    # read ahead from the store, past the target: wait until the control file says so.
    promoted() {
      [ ! -f "$PGDATA/recovery.signal" ] && LC_ALL=C pg_controldata "$PGDATA" 2>/dev/null |
        grep -q '^Database cluster state: *in production$'
    }
    until promoted; do
      if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        cat "$server_log" >&2
        # The whole archive replayed without reaching the target: it is later than any WAL.
        grep -q "recovery ended before configured recovery target was reached" "$server_log" &&
          refuse "spec.restore.targetTime $target is after the last archived WAL"
        fail "Recovery stopped before it finished; see the container's log"
      fi
      sleep 1
    done
    cat "$server_log"
    rm -f "$server_log"
    pg_ctl stop -D "$PGDATA" -m fast -w -t 300 >/dev/null || fail "The restored server did not stop"
    rm -f "$PGDATA/restore.conf" "$marker"
    echo "Restored and promoted to a new timeline."
    ;;
  *)
    fail "usage: barman archive|restore-wal|backup|restore"
    ;;
esac
