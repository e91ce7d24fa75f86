/**
 * The PostgreSQL StatefulSet `<name>`.
 *
 * Choices worth knowing:
 * - Ordinal 0 is the primary; with `replicas` above 1 the others are hot standbys that stream
 *   from it (see `credentials.ts` for how they are built). `podManagementPolicy: Parallel`:
 *   a standby waits for the primary in its init container, so nothing is gained by starting
 *   pods one by one, and a scale-up does not wait for each pod in turn.
 * - `serviceName` is the headless `<name>-pods`, which gives each pod a stable DNS name.
 * - PVC retention `Retain` on delete and scale-down: deleting a Database or lowering its
 *   replicas never destroys data. Recreating a Database with the same name reattaches the
 *   volumes; delete the PVCs (`kubectl delete pvc -l database=<name>`) to free them.
 * - A StatefulSet's volumeClaimTemplates cannot change, so growing `spec.storage.size` keeps the
 *   template as created and resizes the existing PVCs instead (see the reconciler).
 * - Non-root (uid 999 of the official image), read-only root filesystem with writable
 *   emptyDirs for the socket folder and /tmp, a memory-backed /dev/shm (PostgreSQL's dynamic
 *   shared memory; a container's default is 64 MB), no capabilities, RuntimeDefault seccomp, no
 *   service account token, `fsGroupChangePolicy: OnRootMismatch` (no recursive chown of a large
 *   data directory at every start).
 * - An init container (`credentials.ts`) makes the data directory's role and password match the
 *   Secret before the server starts, and refuses a data directory of another major version.
 * - Probes: startup (`pg_isready`, up to 10 minutes, so a long `initdb` or crash recovery is
 *   not killed), liveness (`pg_isready`: the server answers), readiness (a login with the
 *   Secret's credentials over the pod's own address, which `pg_hba.conf` checks with
 *   scram-sha-256: Ready means a client can log in, not only that the socket answers).
 * - Requests of 25m CPU and 64Mi memory when `spec.resources` sets none, so the pod is not
 *   BestEffort (first to be evicted) yet 50 Databases fit a two-core node.
 *
 * @module
 */
import type { KubeObject } from "../../runtime/client/mod.ts";
import {
  type Database,
  type DatabaseSpec,
  labels,
  ownedMetadata,
  podsServiceName,
  POSTGRES_PORT,
  primaryPod,
  secretName,
  selectorLabels,
} from "../api/mod.ts";
import {
  CREDENTIALS_ANNOTATION,
  REPLICATION_PASSWORD_KEY,
  SYNC_CREDENTIALS_SCRIPT,
} from "../credentials/mod.ts";

/** An apps/v1 StatefulSet, with the fields the operator reads. */
export interface StatefulSet extends KubeObject {
  spec?: {
    replicas?: number;
    volumeClaimTemplates?: VolumeClaimTemplate[];
    [key: string]: unknown;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

/** The part of a PVC template the operator sets. */
export interface VolumeClaimTemplate {
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    accessModes: string[];
    storageClassName?: string;
    resources: { requests: { storage: string } };
  };
}

/** Name of the data volume; PVCs are `data-<name>-<ordinal>`. */
export const DATA_VOLUME = "data";
const DATA_DIR = "/var/lib/postgresql/data";
const POSTGRES_UID = 999;
/** 1 on a primary, and on a standby whose WAL receiver streams; else 0. */
const STREAMING_OR_PRIMARY = "SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT count(*) " +
  "FROM pg_stat_wal_receiver WHERE status = 'streaming') ELSE 1 END";

/** Requests when `spec.resources` has none. */
export const DEFAULT_REQUESTS = { cpu: "25m", memory: "64Mi" };

/** The PVC template for `spec.storage`. */
export function volumeClaimTemplate(db: Database, spec: DatabaseSpec): VolumeClaimTemplate {
  return {
    metadata: { name: DATA_VOLUME, labels: labels(db) },
    spec: {
      accessModes: ["ReadWriteOnce"],
      ...(spec.storage.storageClass ? { storageClassName: spec.storage.storageClass } : {}),
      resources: { requests: { storage: spec.storage.size } },
    },
  };
}

/**
 * The StatefulSet as it should be. `template` is the live volumeClaimTemplate, which must be
 * kept once the StatefulSet exists; `credentials` is the Secret's {@linkcode credentialsVersion}
 * (a change rolls the pods, whose init container then applies the new password).
 */
export function desiredStatefulSet(
  db: Database,
  spec: DatabaseSpec,
  template: VolumeClaimTemplate = volumeClaimTemplate(db, spec),
  credentials = "",
): StatefulSet {
  const fromSecret = (key: string) => ({
    valueFrom: { secretKeyRef: { name: secretName(db), key } },
  });
  const env = [
    { name: "POSTGRES_DB", value: spec.databaseName },
    { name: "POSTGRES_USER", ...fromSecret("username") },
    { name: "POSTGRES_PASSWORD", ...fromSecret("password") },
    { name: "PGDATA", value: `${DATA_DIR}/pgdata` },
    // With standbys: the replication role's password, and where the primary is.
    ...(spec.replicas > 1
      ? [
        { name: "REPLICATION_PASSWORD", ...fromSecret(REPLICATION_PASSWORD_KEY) },
        {
          name: "PRIMARY_HOST",
          value: `${primaryPod(db)}.${podsServiceName(db)}.${db.metadata.namespace}.svc`,
        },
      ]
      : []),
  ];
  const shell = (script: string) => ({ exec: { command: ["/bin/sh", "-c", script] } });
  const isReady = shell(
    'exec pg_isready -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
  );
  const securityContext = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  };
  const dataMount = { name: DATA_VOLUME, mountPath: DATA_DIR };
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: ownedMetadata(db, db.metadata.name!),
    spec: {
      replicas: spec.replicas,
      serviceName: podsServiceName(db),
      podManagementPolicy: "Parallel",
      selector: { matchLabels: selectorLabels(db) },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      template: {
        metadata: {
          labels: labels(db),
          annotations: { [CREDENTIALS_ANNOTATION]: credentials },
        },
        spec: {
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: POSTGRES_UID,
            runAsGroup: POSTGRES_UID,
            fsGroup: POSTGRES_UID,
            fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
          },
          initContainers: [{
            name: "sync-credentials",
            image: spec.image,
            command: ["bash", "-c", SYNC_CREDENTIALS_SCRIPT],
            env,
            resources: spec.resources ?? { requests: DEFAULT_REQUESTS },
            securityContext,
            volumeMounts: [dataMount, { name: "tmp", mountPath: "/tmp" }],
          }],
          containers: [{
            name: "postgres",
            image: spec.image,
            ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
            env: [
              ...env,
              { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            ],
            resources: spec.resources ?? { requests: DEFAULT_REQUESTS },
            startupProbe: {
              ...isReady,
              periodSeconds: 5,
              timeoutSeconds: 5,
              failureThreshold: 120,
            },
            livenessProbe: {
              ...isReady,
              periodSeconds: 20,
              timeoutSeconds: 5,
              failureThreshold: 6,
            },
            // A login; on a standby, also that it streams from the primary.
            readinessProbe: {
              ...shell(
                '[ "$(PGPASSWORD="$POSTGRES_PASSWORD" psql -h "$POD_IP" -p 5432 ' +
                  '-U "$POSTGRES_USER" -d "$POSTGRES_DB" -XtAc "' + STREAMING_OR_PRIMARY +
                  '")" = 1 ]',
              ),
              periodSeconds: 10,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
            securityContext,
            volumeMounts: [
              dataMount,
              { name: "run", mountPath: "/var/run/postgresql" },
              { name: "tmp", mountPath: "/tmp" },
              { name: "shm", mountPath: "/dev/shm" },
            ],
          }],
          volumes: [
            { name: "run", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
            { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
          ],
        },
      },
      volumeClaimTemplates: [template],
    },
  };
}
