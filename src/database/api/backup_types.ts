/**
 * The shapes of a Database's backups: `spec.backup` (continuous WAL archiving and base backups
 * to an S3-compatible object store), `spec.restore` (a new Database started from such a store)
 * and the `Backup` kind, which takes one base backup on demand.
 *
 * @module
 */
import type { KubeObject, ObjectMeta } from "../../runtime/client/mod.ts";

/** Where backups go or come from: a bucket and key prefix of an S3-compatible store. */
export interface ObjectStore {
  /** The S3 endpoint URL, such as `https://s3.eu-west-1.amazonaws.com` or `https://minio:9000`. */
  endpoint: string;
  /** The bucket, which must exist. */
  bucket: string;
  /** Key prefix of this Database's backups and WAL; `<namespace>/<name>` when unset. */
  path?: string;
  /**
   * Secret in the Database's namespace with `accessKeyId`, `secretAccessKey` and optionally
   * `ca.crt` (the CA that signed the endpoint's certificate) and `region`.
   */
  secret: string;
}

/** `spec.backup`: continuous archiving, and base backups by schedule. */
export interface DatabaseBackup {
  objectStore: ObjectStore;
  /** Base backups by a five-field cron schedule in UTC; none when unset. */
  schedule?: string;
  /** Base backups older than this (`30d`, `4w`) are removed, with the WAL only they need. */
  retention?: string;
  /** Longest a finished write waits to be archived, such as `60s` or `5m`. @default {"60s"} */
  archiveTimeout?: string;
}

/** `spec.restore`: at creation only, the Database starts from a store's backups. */
export interface DatabaseRestore {
  objectStore: ObjectStore;
  /** RFC 3339 time to recover to; the latest consistent point when unset. */
  targetTime?: string;
}

/** Phases of a Backup. */
export type BackupPhase = "Pending" | "Running" | "Completed" | "Failed";

/** The observed state of a Backup. */
export interface BackupStatus {
  phase?: BackupPhase;
  /** The instance the backup was taken from. */
  instance?: string;
  /** The backup's ID in the store (barman's, a UTC timestamp such as `20261207T101500`). */
  backupId?: string;
  startedAt?: string;
  stoppedAt?: string;
  /** The first and last WAL segment the backup needs. */
  beginWal?: string;
  endWal?: string;
  /** Bytes of the data directory copied. */
  size?: number;
  /** Why it failed. */
  error?: string;
}

/** A Backup object. */
export interface Backup extends KubeObject {
  metadata: ObjectMeta;
  spec: { database: string };
  status?: BackupStatus;
}

/** `status.backup` of a Database: what the store holds, as the instances reported it. */
export interface DatabaseBackupStatus {
  /** The last base backup that completed: its Backup's name and when it finished. */
  lastBackup?: string;
  lastBackupTime?: string;
  /** The earliest point a restore can reach: the end of the oldest completed backup. */
  firstRecoverabilityPoint?: string;
  /** The last WAL segment PostgreSQL archived, and when. */
  lastArchivedWal?: string;
  lastArchivedTime?: string;
  /** The last segment that failed to archive, and when; older than the last success when healed. */
  lastFailedWal?: string;
  lastFailedTime?: string;
}
