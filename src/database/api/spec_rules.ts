/**
 * The constants of the Database CRD's schema: defaults, limits, patterns and every CEL message,
 * character for character as `manifests/crd/bases/` has them (`tests/database/api/crd_test.ts`
 * compares them), shared by the zod mirror (`spec.ts`) and the tests.
 *
 * @module
 */
import { NAME_MESSAGES } from "./database_name.ts";

/** Default of `spec.image`. */
export const DEFAULT_IMAGE = "postgres:17";
/** Default of `spec.replicas`. */
export const DEFAULT_REPLICAS = 1;
/** Most `spec.replicas` that need no more than the default storage. */
export const MAX_REPLICAS_WITHOUT_LARGE_STORAGE = 5;
/** Least `spec.storage.size` once `spec.replicas` exceeds {@linkcode MAX_REPLICAS_WITHOUT_LARGE_STORAGE}. */
export const LARGE_STORAGE_SIZE = "50Gi";
/** Role names `spec.username` may not take, besides any name starting with `pg_`. */
export const RESERVED_USERNAMES = [
  "postgres",
  "public",
  "none",
  "current_user",
  "session_user",
  "current_role",
] as const;

/**
 * The image reference rule, as in the CRD's CEL `matches`: optional registry (with port),
 * lowercase path components, then an image name containing `postgres`, an optional tag and an
 * optional sha256 digest. It has no backslashes, so it is also a valid CEL string literal.
 */
export const IMAGE_PATTERN =
  "^([a-zA-Z0-9.-]+(:[0-9]+)?/)?([a-z0-9]+([._-]+[a-z0-9]+)*/)*([a-z0-9][a-z0-9._-]*)?postgres([a-z0-9._-]*[a-z0-9])?(:[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$";
/** A PostgreSQL unquoted identifier, for `spec.databaseName` and `spec.username`. */
export const IDENTIFIER_PATTERN = "^[a-z_][a-z0-9_]*$";
/** An unsigned quantity, for `spec.storage.size`. */
export const SIZE_PATTERN =
  "^([0-9]+([.][0-9]*)?|[.][0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][-+]?[0-9]+)?$";
/** A DNS subdomain (RFC 1123), for `spec.storage.storageClass`. */
export const DNS_SUBDOMAIN_PATTERN =
  "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/** Least `spec.storage.size`: an initialised PostgreSQL data directory takes about 40 MB. */
export const MIN_STORAGE_SIZE = "64Mi";
/** Databases PostgreSQL creates for itself, which `spec.databaseName` may not name. */
export const RESERVED_DATABASE_NAMES = ["postgres", "template0", "template1"] as const;
/** Resource names `spec.resources` may use, besides any `hugepages-<page size>`. */
export const RESOURCE_NAMES = ["cpu", "memory", "ephemeral-storage"] as const;
/** Most entries in `spec.resources.limits` or `.requests` (bounds the CEL rules' cost). */
export const MAX_RESOURCE_ENTRIES = 8;
/** The quantity pattern controller-gen emits for core `ResourceRequirements` values. */
export const RESOURCE_QUANTITY_PATTERN = String
  .raw`^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$`;

/** Every CEL `message` in the CRD, single-object and transition rules alike. */
/** A label key such as `kubernetes.io/hostname` or `topology.kubernetes.io/zone`. */
export const LABEL_KEY_PATTERN =
  "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$";

export const RULE_MESSAGES = {
  image: "spec.image must be a PostgreSQL image whose name contains postgres, such as postgres:17",
  reservedUsername: "spec.username must not be a reserved role name (pg_*, postgres, public, " +
    "none, current_user, session_user, current_role)",
  sizeIsQuantity: "spec.storage.size must be a Kubernetes quantity such as 10Gi",
  sizeMinimum: "spec.storage.size must be at least 64Mi: an initialised PostgreSQL data " +
    "directory takes about 40 MB",
  sizeForReplicas: "spec.storage.size must be at least 50Gi when spec.replicas is greater than 5",
  synchronousReplicas: "spec.synchronousReplicas must be less than spec.replicas: a commit " +
    "waits for that many standbys, and the primary is not one",
  databaseNameReserved: "spec.databaseName must not be postgres, template0 or template1, the " +
    "databases PostgreSQL creates for itself",
  ...NAME_MESSAGES,
  limitsNames: "spec.resources.limits may name only cpu, memory, ephemeral-storage and " +
    "hugepages-<page size>",
  limitsNonNegative: "spec.resources.limits must not be negative",
  requestsNames: "spec.resources.requests may name only cpu, memory, ephemeral-storage and " +
    "hugepages-<page size>",
  requestsNonNegative: "spec.resources.requests must not be negative",
  requestsWithinLimits: "spec.resources.requests must not exceed spec.resources.limits for the " +
    "same resource",
  databaseNameImmutable: "spec.databaseName is immutable",
  imageMajorVersion: "spec.image cannot change PostgreSQL's major version: the data directory " +
    'needs pg_upgrade or a dump and restore first (see the README, "Upgrading PostgreSQL"); ' +
    "minor versions of the same major can change freely",
  usernameImmutable: "spec.username is immutable: the role is created once, with the data " +
    "directory",
  storageClassImmutable: "spec.storage.storageClass is immutable: existing volumes keep the " +
    "class they were made with",
  sizeNeverShrinks: "spec.storage.size may grow but never shrink",
  restoreImmutable: "spec.restore is immutable",
  restoreAtCreation: "spec.restore can be set only when the Database is created",
} as const;
