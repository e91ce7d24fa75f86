/**
 * What `spec.backup` and `spec.restore` add to a Database's pods.
 *
 * - `spec.backup`: PostgreSQL archives every finished WAL segment with `barman.sh archive`
 *   (`archive_mode = on`, so only a primary archives; a promoted standby continues on its new
 *   timeline), at the latest after `archiveTimeout`. A segment that fails to upload stays in
 *   `pg_wal` and is retried: nothing is lost while the store is away, and the volume holds the
 *   backlog (`max_slot_wal_keep_size` does not apply to it; size the volume for the longest
 *   outage you expect, and watch the ContinuousArchiving condition).
 * - `spec.restore`: an init container `restore` before `sync-credentials` fills an empty data
 *   directory of the first instance from the store (`barman.sh restore`), to `targetTime` or
 *   the end of the archive, and promotes it; `sync-credentials` then gives the restored roles
 *   this Database's passwords. Standbys copy the restored primary as usual.
 *
 * The store's Secret is mounted as files (`/etc/backup-store`, `/etc/restore-store`); the
 * credentials never reach an argument, the pod spec or a log.
 *
 * @module
 */
import type { Database, DatabaseSpec } from "../api/mod.ts";
import { ARCHIVE_COMMAND, BARMAN_SCRIPT_ENV } from "./barman.ts";
import { SCRIPT_ENV, storeEnv, storeMount, storeVolume } from "./store.ts";

/** The default of `spec.backup.archiveTimeout`. */
export const DEFAULT_ARCHIVE_TIMEOUT = "60s";

type Env = { name: string; value: string };
type Json = Record<string, unknown>;

/** What the backup settings add to the pod template; empty without them. */
export interface BackupPodAdditions {
  /** For every container that runs PostgreSQL or barman. */
  env: Env[];
  mounts: Json[];
  volumes: Json[];
  /** Server settings, as `postgres` arguments: `["-c", "archive_mode=on", …]`. */
  postgresArgs: string[];
  /** Init containers that run before `sync-credentials`. */
  initContainers: Json[];
}

/** `archiveTimeout` in PostgreSQL's units: `60s`, `5min`, `1h`. */
export function archiveTimeoutSetting(timeout = DEFAULT_ARCHIVE_TIMEOUT): string {
  return timeout.endsWith("m") ? `${timeout}in` : timeout;
}

/**
 * The pod additions of `spec.backup` and `spec.restore`. `base` is the restore init container
 * without its name, command and environment: the image, resources, security context and the
 * data mount, as `sync-credentials` has them.
 */
export function backupPodAdditions(
  db: Database,
  spec: DatabaseSpec,
  base: { env: unknown[]; volumeMounts: Json[]; [key: string]: unknown },
): BackupPodAdditions {
  const additions: BackupPodAdditions = {
    env: [],
    mounts: [],
    volumes: [],
    postgresArgs: [],
    initContainers: [],
  };
  if (!spec.backup && !spec.restore) return additions;
  additions.env.push(SCRIPT_ENV);
  if (spec.backup) {
    const store = spec.backup.objectStore;
    additions.env.push(...storeEnv(db, "BACKUP", store));
    additions.mounts.push(storeMount("BACKUP"));
    additions.volumes.push(storeVolume("BACKUP", store));
    additions.postgresArgs.push(
      "-c",
      "archive_mode=on",
      "-c",
      `archive_command=${ARCHIVE_COMMAND}`,
      "-c",
      `archive_timeout=${archiveTimeoutSetting(spec.backup.archiveTimeout)}`,
    );
  }
  if (spec.restore) {
    const store = spec.restore.objectStore;
    const restoreEnv = [
      ...storeEnv(db, "RESTORE", store),
      ...(spec.restore.targetTime
        ? [{ name: "RESTORE_TARGET_TIME", value: spec.restore.targetTime }]
        : []),
      // Only the first instance restores; the others copy it once it runs.
      { name: "RESTORE_INSTANCE", value: `${db.metadata.name}-0` },
    ];
    additions.env.push(...restoreEnv);
    additions.mounts.push(storeMount("RESTORE"));
    additions.volumes.push(storeVolume("RESTORE", store));
    additions.initContainers.push({
      ...base,
      name: "restore",
      command: ["bash", "-c", `exec bash -c "$${BARMAN_SCRIPT_ENV}" barman restore`],
      env: [...base.env, SCRIPT_ENV, ...restoreEnv],
      volumeMounts: [...base.volumeMounts, storeMount("RESTORE")],
    });
  }
  return additions;
}
