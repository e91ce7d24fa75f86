/**
 * The PostgreSQL StatefulSet `<name>`.
 *
 * Choices worth knowing:
 * - With `replicas` above 1, `status.currentPrimary` is the primary (ordinal 0 at creation) and
 *   the others are hot standbys that stream from it. Each pod's main process is then the
 *   instance manager (`instance_manager.ts`), which runs PostgreSQL in the role the operator
 *   decided, with the pod's own ServiceAccount (`<name>`, allowed to read this Database only)
 *   and a projected, expiring token. Instances prefer distinct nodes (`kubernetes.io/hostname`
 *   anti-affinity, or what `spec.affinity` says). `podManagementPolicy: Parallel`: a standby
 *   waits for the primary in its init container, so nothing is gained by starting pods one by
 *   one.
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
  containerSecurityContext,
  DATA_DIR,
  type Database,
  type DatabaseSpec,
  instanceServiceAccount,
  labels,
  ownedMetadata,
  podSecurityContext,
  podsServiceName,
  POSTGRES_PORT,
  secretName,
  selectorLabels,
} from "../api/mod.ts";
import {
  CREDENTIALS_ANNOTATION,
  REPLICATION_PASSWORD_KEY,
  SYNC_CREDENTIALS_SCRIPT,
} from "../credentials/mod.ts";
import { backupPodAdditions } from "../backup/mod.ts";
import { INSTANCE_MANAGER_SCRIPT } from "./instance_manager.ts";
import { tlsPodAdditions } from "./tls_mount.ts";

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
/** 1 on a primary, and on a standby whose WAL receiver streams; else 0. */
const STREAMING_OR_PRIMARY = "SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT count(*) " +
  "FROM pg_stat_wal_receiver WHERE status = 'streaming') ELSE 1 END";

const TOKEN_VOLUME = "instance-token";
const TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
/** The pod's ServiceAccount token (renewed by the kubelet), the cluster CA and namespace. */
const TOKEN_PROJECTION = {
  name: TOKEN_VOLUME,
  projected: {
    sources: [
      { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
      { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
      {
        downwardAPI: {
          items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }],
        },
      },
    ],
  },
};

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
 * (a change rolls the pods, whose init container then applies the new password); with `tls`
 * (the Secret's server certificate, as its annotation names it), the server serves TLS.
 */
export function desiredStatefulSet(
  db: Database,
  spec: DatabaseSpec,
  template: VolumeClaimTemplate = volumeClaimTemplate(db, spec),
  credentials = "",
  tls?: string,
): StatefulSet {
  const fromSecret = (key: string) => ({
    valueFrom: { secretKeyRef: { name: secretName(db), key } },
  });
  const ha = spec.replicas > 1;
  const env = [
    { name: "POSTGRES_DB", value: spec.databaseName },
    { name: "POSTGRES_USER", ...fromSecret("username") },
    { name: "POSTGRES_PASSWORD", ...fromSecret("password") },
    { name: "PGDATA", value: `${DATA_DIR}/pgdata` },
    // With standbys: the replication role's password, and how to find the Database and peers.
    ...(ha
      ? [
        { name: "REPLICATION_PASSWORD", ...fromSecret(REPLICATION_PASSWORD_KEY) },
        { name: "DATABASE_NAME", value: db.metadata.name! },
        { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "PODS_SERVICE", value: `${podsServiceName(db)}.${db.metadata.namespace}.svc` },
      ]
      : []),
  ];
  const tokenMount = ha ? [{ name: TOKEN_VOLUME, mountPath: TOKEN_PATH, readOnly: true }] : [];
  const shell = (script: string) => ({ exec: { command: ["/bin/sh", "-c", script] } });
  const isReady = shell(
    'exec pg_isready -h 127.0.0.1 -p 5432 -U "$POSTGRES_USER" -d "$POSTGRES_DB"',
  );
  const securityContext = containerSecurityContext();
  const dataMount = { name: DATA_VOLUME, mountPath: DATA_DIR };
  const initBase = {
    image: spec.image,
    env,
    resources: spec.resources ?? { requests: DEFAULT_REQUESTS },
    securityContext,
    volumeMounts: [dataMount, { name: "tmp", mountPath: "/tmp" }, ...tokenMount],
  };
  const backup = backupPodAdditions(db, spec, initBase);
  const serving = tlsPodAdditions(db, tls);
  const postgresArgs = [...backup.postgresArgs, ...serving.postgresArgs];
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
      // With standbys the operator restarts the pods itself, standbys first, then a switchover
      // (ha/rolling_update.ts); one instance rolls as usual.
      ...(ha ? { updateStrategy: { type: "OnDelete" } } : {}),
      template: {
        metadata: {
          labels: labels(db),
          annotations: { [CREDENTIALS_ANNOTATION]: credentials, ...serving.annotations },
        },
        spec: {
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          ...(ha
            ? {
              serviceAccountName: instanceServiceAccount(db),
              ...antiAffinity(db, spec),
            }
            : {}),
          securityContext: podSecurityContext(),
          initContainers: [...backup.initContainers, {
            ...initBase,
            name: "sync-credentials",
            command: ["bash", "-c", SYNC_CREDENTIALS_SCRIPT],
          }],
          containers: [{
            name: "postgres",
            image: spec.image,
            // The server's settings of spec.backup and TLS, as arguments of postgres (the
            // instance manager passes its own on).
            ...(ha ? { command: ["bash", "-c", INSTANCE_MANAGER_SCRIPT, "instance-manager"] } : {}),
            ...(postgresArgs.length > 0
              ? { args: ha ? postgresArgs : ["postgres", ...postgresArgs] }
              : {}),
            ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
            env: [
              ...env,
              { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
              ...backup.env,
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
            // A login; on a standby, also that it streams from the primary. Bounded by the
            // probe itself: a hung server (SIGSTOP) must fail it, whatever the runtime does
            // with the kubelet's timeout.
            readinessProbe: {
              ...shell(
                '[ "$(PGPASSWORD="$POSTGRES_PASSWORD" PGCONNECT_TIMEOUT=3 timeout 3 psql ' +
                  '-h "$POD_IP" -p 5432 ' +
                  '-U "$POSTGRES_USER" -d "$POSTGRES_DB" -XtAc "' + STREAMING_OR_PRIMARY +
                  '")" = 1 ]',
              ),
              // A failing primary is noticed within about 10 s (and then failed over).
              periodSeconds: 5,
              timeoutSeconds: 4,
              failureThreshold: 2,
            },
            securityContext,
            volumeMounts: [
              dataMount,
              { name: "run", mountPath: "/var/run/postgresql" },
              { name: "tmp", mountPath: "/tmp" },
              { name: "shm", mountPath: "/dev/shm" },
              ...tokenMount,
              ...backup.mounts,
              ...serving.mounts,
            ],
          }],
          volumes: [
            { name: "run", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
            { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
            ...(ha ? [TOKEN_PROJECTION] : []),
            ...backup.volumes,
            ...serving.volumes,
          ],
        },
      },
      volumeClaimTemplates: [template],
    },
  };
}

/** `spec.affinity` as the pod's anti-affinity between the Database's instances. */
function antiAffinity(db: Database, spec: DatabaseSpec) {
  const { enablePodAntiAffinity = true, podAntiAffinityType = "preferred" } = spec.affinity ?? {};
  if (!enablePodAntiAffinity) return {};
  const term = {
    topologyKey: spec.affinity?.topologyKey ?? "kubernetes.io/hostname",
    labelSelector: { matchLabels: selectorLabels(db) },
  };
  return {
    affinity: {
      podAntiAffinity: podAntiAffinityType === "required"
        ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
        : {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }],
        },
    },
  };
}
