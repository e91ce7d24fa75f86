/**
 * Names and TypeScript shapes of the `Database` custom resource (`database.example.com/v1`).
 *
 * The CRD in `manifests/crd/bases/database.example.com_databases.yaml` is the source of truth;
 * these types follow it, and `spec.ts` checks at compile time that its zod schema produces
 * exactly {@linkcode DatabaseSpec}.
 *
 * @module
 */

import type { KubeObject, ObjectMeta, ResourceType } from "../../runtime/client/mod.ts";
import type { DatabaseBackup, DatabaseBackupStatus, DatabaseRestore } from "./backup_types.ts";

/** API group of the Database resource. */
export const GROUP = "database.example.com";
/** The one served and stored version. */
export const VERSION = "v1";
/** Kind of a Database object. */
export const KIND = "Database";
/** Kind of a Database list. */
export const LIST_KIND = "DatabaseList";
/** Plural resource name, as in REST paths. */
export const PLURAL = "databases";
/** `apiVersion` of every Database object. */
export const API_VERSION = "database.example.com/v1";
/** Finalizer the operator puts on each Database, named as in the course. */
export const FINALIZER = "database.example.com/finalizer";

/** Where the Database REST resource lives, for the runtime's client, watcher and informer. */
export const DATABASE_RESOURCE = {
  group: GROUP,
  version: VERSION,
  kind: KIND,
  plural: PLURAL,
  namespaced: true,
} as const satisfies ResourceType;

/** The `Backup` resource: one base backup of a Database, on demand or by schedule. */
export const BACKUP_RESOURCE = {
  group: GROUP,
  version: VERSION,
  kind: "Backup",
  plural: "backups",
  namespaced: true,
} as const satisfies ResourceType;

/** Every value of `status.phase`, in lifecycle order. */
export const PHASES = ["Pending", "Creating", "Ready", "Failed", "Deleting"] as const;
/** A value of `status.phase`. */
export type DatabasePhase = typeof PHASES[number];

/** Every value of `spec.environment`. */
export const ENVIRONMENTS = ["development", "staging", "production"] as const;
/** A value of `spec.environment`. */
export type DatabaseEnvironment = typeof ENVIRONMENTS[number];

/** A Kubernetes quantity as the API accepts it in resource maps: `"500m"`, `"1Gi"` or `2`. */
export type IntOrQuantity = number | string;

/** The `spec.resources` shape: a subset of core `ResourceRequirements`. */
export interface ResourceRequirements {
  /** Most compute resources allowed, such as `{ cpu: "1", memory: "1Gi" }`. */
  limits?: Record<string, IntOrQuantity>;
  /** Least compute resources required. */
  requests?: Record<string, IntOrQuantity>;
}

/** The `spec.storage` shape. */
export interface DatabaseStorage {
  /**
   * Volume size per instance, a quantity such as `"10Gi"`, at least 64Mi; it may grow but never
   * shrink.
   */
  size: string;
  /** StorageClass of the volumes; the cluster default when unset. Immutable. */
  storageClass?: string;
}

/** `spec.affinity`, CloudNativePG's names: anti-affinity between a Database's instances. */
export interface DatabaseAffinity {
  /** Whether instances avoid each other at all. @default {true} */
  enablePodAntiAffinity?: boolean;
  /** `preferred` (schedule anyway when impossible) or `required`. @default {"preferred"} */
  podAntiAffinityType?: "preferred" | "required";
  /** The node label instances spread over. @default {"kubernetes.io/hostname"} */
  topologyKey?: string;
}

/** The desired state of a Database, after the API server applied its defaults. */
export interface DatabaseSpec {
  /** PostgreSQL image; its name contains `postgres`. @default {"postgres:17"} */
  image: string;
  /** Number of instances, 1 to 10. @default {1} */
  replicas: number;
  /**
   * Standbys every commit waits for (`synchronous_standby_names = 'ANY K (…)'`), 0 (asynchronous)
   * to `replicas - 1`. While fewer stream, commits wait. Unset means 0.
   */
  synchronousReplicas?: number;
  /**
   * Seconds the primary must stay lost before a standby is promoted, beyond detection; unset
   * means 0.
   */
  failoverDelay?: number;
  /**
   * Database to create, a PostgreSQL unquoted identifier other than `postgres`, `template0` and
   * `template1`; immutable.
   */
  databaseName: string;
  /** Role that owns the database, an unreserved PostgreSQL unquoted identifier; immutable. */
  username: string;
  /** Persistent storage for each instance. */
  storage: DatabaseStorage;
  /** Compute resources of the PostgreSQL container: cpu, memory, ephemeral-storage, hugepages-*. */
  resources?: ResourceRequirements;
  /** Kind of environment this database serves. */
  environment?: DatabaseEnvironment;
  /** How instances spread over nodes; by default each prefers a node of its own. */
  affinity?: DatabaseAffinity;
  /** Continuous WAL archiving and base backups to an object store. */
  backup?: DatabaseBackup;
  /** At creation only: start from an object store's backups, to a point in time. Immutable. */
  restore?: DatabaseRestore;
}

/** A `metav1.Condition`. */
export interface Condition {
  /** CamelCase type, such as `Ready`; unique within `status.conditions`. */
  type: string;
  status: "True" | "False" | "Unknown";
  /** The `.metadata.generation` the condition was set for. */
  observedGeneration?: number;
  /** RFC 3339 time of the last change of `status`. */
  lastTransitionTime: string;
  /** CamelCase machine-readable reason. */
  reason: string;
  /** Human-readable details; may be empty. */
  message: string;
}

/** The observed state of a Database, written by the operator through the status subresource. */
export interface DatabaseStatus {
  phase?: DatabasePhase;
  /** Whether every replica is ready to serve. */
  ready?: boolean;
  readyReplicas?: number;
  /** With standbys: how many stream from the primary (ready standbys). */
  streamingReplicas?: number;
  /** The primary pod, which `<name>` selects; decided by the operator. */
  currentPrimary?: string;
  /** During a failover or switchover, the pod being promoted. */
  targetPrimary?: string;
  /** The standbys that acknowledge commits synchronously now. */
  synchronousStandbys?: string[];
  /** `<name>.<namespace>.svc:5432`. */
  endpoint?: string;
  /** Secret `<name>-credentials` with keys `username`, `password` and `database`. */
  secretName?: string;
  /** The `.metadata.generation` this status was computed from. */
  observedGeneration?: number;
  /** With `spec.backup`: the archive's state. */
  backup?: DatabaseBackupStatus;
  conditions?: Condition[];
}

/** A Database object as read from the API server. */
export interface Database extends KubeObject {
  apiVersion?: typeof API_VERSION;
  kind?: typeof KIND;
  metadata: ObjectMeta;
  spec: DatabaseSpec;
  status?: DatabaseStatus;
}
