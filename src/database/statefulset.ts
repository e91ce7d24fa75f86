/**
 * The PostgreSQL StatefulSet `<name>`.
 *
 * Choices worth knowing:
 * - `podManagementPolicy: Parallel`: instances are independent (this operator does not set up
 *   replication), so there is no reason to start them one by one.
 * - PVC retention `Retain` on delete and scale-down: deleting a Database or lowering its
 *   replicas never destroys data. Recreating a Database with the same name reattaches the
 *   volumes; delete the PVCs (`kubectl delete pvc -l database=<name>`) to free them.
 * - A StatefulSet's volumeClaimTemplates cannot change, so growing `spec.storage.size` keeps the
 *   template as created and resizes the existing PVCs instead (see the reconciler).
 * - Non-root (uid 999 of the official image), read-only root filesystem with writable
 *   emptyDirs for the socket folder and /tmp, no capabilities, RuntimeDefault seccomp.
 *
 * @module
 */
import type { KubeObject } from "../runtime/resource.ts";
import { labels, ownedMetadata, selectorLabels } from "./labels.ts";
import { POSTGRES_PORT, secretName } from "./secret.ts";
import type { Database, DatabaseSpec } from "./types.ts";

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
 * kept once the StatefulSet exists.
 */
export function desiredStatefulSet(
  db: Database,
  spec: DatabaseSpec,
  template: VolumeClaimTemplate = volumeClaimTemplate(db, spec),
): StatefulSet {
  const fromSecret = (key: string) => ({
    valueFrom: { secretKeyRef: { name: secretName(db), key } },
  });
  const probe = (initialDelaySeconds: number, periodSeconds: number) => ({
    exec: {
      command: [
        "/bin/sh",
        "-c",
        'exec pg_isready -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
      ],
    },
    initialDelaySeconds,
    periodSeconds,
    timeoutSeconds: 5,
    failureThreshold: 6,
  });
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: ownedMetadata(db, db.metadata.name!),
    spec: {
      replicas: spec.replicas,
      serviceName: db.metadata.name!,
      podManagementPolicy: "Parallel",
      selector: { matchLabels: selectorLabels(db) },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      template: {
        metadata: { labels: labels(db) },
        spec: {
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: POSTGRES_UID,
            runAsGroup: POSTGRES_UID,
            fsGroup: POSTGRES_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [{
            name: "postgres",
            image: spec.image,
            ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
            env: [
              { name: "POSTGRES_DB", value: spec.databaseName },
              { name: "POSTGRES_USER", ...fromSecret("username") },
              { name: "POSTGRES_PASSWORD", ...fromSecret("password") },
              { name: "PGDATA", value: `${DATA_DIR}/pgdata` },
            ],
            ...(spec.resources ? { resources: spec.resources } : {}),
            readinessProbe: probe(5, 10),
            livenessProbe: probe(30, 20),
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
            volumeMounts: [
              { name: DATA_VOLUME, mountPath: DATA_DIR },
              { name: "run", mountPath: "/var/run/postgresql" },
              { name: "tmp", mountPath: "/tmp" },
            ],
          }],
          volumes: [{ name: "run", emptyDir: {} }, { name: "tmp", emptyDir: {} }],
        },
      },
      volumeClaimTemplates: [template],
    },
  };
}
