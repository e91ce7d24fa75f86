/**
 * The Job that takes one Backup: `barman.sh backup` in the Database's image, on the node of the
 * chosen instance, with that instance's volume mounted read-only where the server has it.
 * barman-cloud-backup asks the server for a backup (`pg_backup_start`, which never blocks
 * writes, also on a standby) and uploads the data directory as it reads it; the Job's pod ends
 * with the backup's record from the store as its termination message, which the operator
 * copies into the Backup's status.
 *
 * @module
 */
import type { KubeObject, ResourceType } from "../../runtime/client/mod.ts";
import {
  type Backup,
  BACKUP_RESOURCE,
  containerSecurityContext,
  DATA_DIR,
  type Database,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  podSecurityContext,
  secretName,
} from "../api/mod.ts";
import { BARMAN_SCRIPT_ENV } from "./barman.ts";
import { TLS_DIR, TLS_VOLUME, tlsVolume } from "../tls/mod.ts";
import { SCRIPT_ENV, storeEnv, storeMount, storeVolume } from "./store.ts";

/** batch/v1 Jobs. */
export const JOB_RESOURCE = {
  group: "batch",
  version: "v1",
  kind: "Job",
  plural: "jobs",
  namespaced: true,
} as const satisfies ResourceType;

/** How long a finished backup Job (and its log) stays. */
export const JOB_TTL_SECONDS = 600;

/** The label on a Backup's Job and its pod: the Backup's name. */
export const BACKUP_LABEL = "database.example.com/backup";

/** A batch/v1 Job with the fields the operator reads. */
export interface Job extends KubeObject {
  spec?: Record<string, unknown>;
  status?: {
    succeeded?: number;
    failed?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** The instance a backup is taken beside. */
export interface BackupSource {
  pod: string;
  node: string;
  ip: string;
}

/** The Job's name: the Backup's, cut so its pods' `job-name` label stays at most 63. */
export function backupJobName(backup: Backup): string {
  return `backup-${backup.metadata.name!}`.slice(0, 63).replace(/[-.]+$/, "");
}

/** `30d` → `30 DAYS`, as barman's `RECOVERY WINDOW OF` takes it. */
export function recoveryWindow(retention: string): string {
  const unit = { d: "DAYS", w: "WEEKS", m: "MONTHS" }[retention.slice(-1)] ?? "DAYS";
  return `${retention.slice(0, -1)} ${unit}`;
}

/** The Job for `backup` of `db` beside `source`. `db.spec.backup` must be set. */
export function backupJob(
  backup: Backup,
  db: Database,
  source: BackupSource,
): Job {
  const spec = db.spec.backup!;
  const fromSecret = (key: string) => ({
    valueFrom: { secretKeyRef: { name: secretName(db), key } },
  });
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY, [BACKUP_LABEL]: backup.metadata.name! };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: backupJobName(backup),
      namespace: backup.metadata.namespace!,
      labels,
      ownerReferences: [{
        apiVersion: `${BACKUP_RESOURCE.group}/${BACKUP_RESOURCE.version}`,
        kind: BACKUP_RESOURCE.kind,
        name: backup.metadata.name!,
        uid: backup.metadata.uid!,
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    spec: {
      backoffLimit: 0,
      // The operator deletes it once its outcome is in the Backup's status; this is for a Job
      // whose Backup went first.
      ttlSecondsAfterFinished: JOB_TTL_SECONDS,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          nodeName: source.node,
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          containers: [{
            name: "backup",
            image: db.spec.image,
            command: ["bash", "-c", `exec bash -c "$${BARMAN_SCRIPT_ENV}" barman backup "$BACKUP"`],
            env: [
              { name: "BACKUP", value: backup.metadata.name! },
              { name: "PGHOST", value: source.ip },
              { name: "POSTGRES_USER", ...fromSecret("username") },
              { name: "PGPASSWORD", ...fromSecret("password") },
              ...(spec.retention
                ? [{ name: "BACKUP_RETENTION", value: recoveryWindow(spec.retention) }]
                : []),
              SCRIPT_ENV,
              ...storeEnv(db, "BACKUP", spec.objectStore),
            ],
            terminationMessagePolicy: "File",
            securityContext: containerSecurityContext(),
            volumeMounts: [
              { name: "data", mountPath: DATA_DIR, readOnly: true },
              { name: "tmp", mountPath: "/tmp" },
              storeMount("BACKUP"),
              // The file itself (subPath), not the Secret volume's symbolic link to it.
              {
                name: TLS_VOLUME,
                mountPath: `${TLS_DIR}/pg_hba.conf`,
                subPath: "pg_hba.conf",
                readOnly: true,
              },
            ],
          }],
          volumes: [
            {
              name: "data",
              persistentVolumeClaim: { claimName: `data-${source.pod}`, readOnly: true },
            },
            { name: "tmp", emptyDir: {} },
            storeVolume("BACKUP", spec.objectStore),
            // barman-cloud-backup copies the server's hba_file, which is outside the data folder.
            tlsVolume(secretName(db), ["pg_hba.conf"], true),
          ],
        },
      },
    },
  };
}
