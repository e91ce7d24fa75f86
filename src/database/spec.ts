/**
 * The zod mirror of the Database CRD's spec schema, for the reconciler: it applies the same
 * defaults and rejects the same objects as the API server, naming the field the same way.
 *
 * The CRD YAML is the source of truth. This mirror covers its single-object rules only;
 * transition rules (`databaseName`, `username` and `storage.storageClass` are immutable,
 * `storage.size` never shrinks) exist only in CEL. The rules on `metadata.name` are mirrored in
 * `database_name.ts`. `tests/database/` proves both accept and reject the same corpus, and that the patterns
 * and CEL messages below are the CRD's, character for character.
 *
 * @module
 */

import { z } from "zod";
import { NAME_MESSAGES } from "./database_name.ts";
import { compareQuantities, isQuantity, parseQuantity } from "./quantity.ts";
import { type DatabaseSpec, ENVIRONMENTS } from "./types.ts";

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
export const RULE_MESSAGES = {
  image: "spec.image must be a PostgreSQL image whose name contains postgres, such as postgres:17",
  reservedUsername: "spec.username must not be a reserved role name (pg_*, postgres, public, " +
    "none, current_user, session_user, current_role)",
  sizeIsQuantity: "spec.storage.size must be a Kubernetes quantity such as 10Gi",
  sizeMinimum: "spec.storage.size must be at least 64Mi: an initialised PostgreSQL data " +
    "directory takes about 40 MB",
  sizeForReplicas: "spec.storage.size must be at least 50Gi when spec.replicas is greater than 5",
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
} as const;

const identifier = (field: string) =>
  z.string()
    .max(63, `${field} must be at most 63 characters`)
    .regex(
      new RegExp(IDENTIFIER_PATTERN),
      `${field} must be a PostgreSQL identifier: a lowercase letter or underscore, ` +
        "then lowercase letters, digits or underscores",
    );

const RESOURCE_QUANTITY_MESSAGE =
  "Must be a Kubernetes quantity such as 500m or 1Gi, or an integer";
const resourceList = (list: "limits" | "requests") =>
  z.record(
    z.string(),
    z.union([
      z.int(),
      z.string().max(64, "Must be at most 64 characters")
        .regex(new RegExp(RESOURCE_QUANTITY_PATTERN), RESOURCE_QUANTITY_MESSAGE),
    ], { error: RESOURCE_QUANTITY_MESSAGE }),
  )
    .refine(
      (map) => Object.keys(map).length <= MAX_RESOURCE_ENTRIES,
      `spec.resources.${list} must have at most ${MAX_RESOURCE_ENTRIES} entries`,
    )
    .refine(
      (map) => Object.keys(map).every(isResourceName),
      RULE_MESSAGES[`${list}Names`],
    )
    .refine(
      (map) =>
        Object.values(map).every((v) => !isQuantity(String(v)) || parseQuantity(String(v)) >= 0),
      RULE_MESSAGES[`${list}NonNegative`],
    );

function isResourceName(name: string): boolean {
  return (RESOURCE_NAMES as readonly string[]).includes(name) || name.startsWith("hugepages-");
}

/** The CEL rule on `spec.resources`, with the same guards: every request at most its limit. */
function requestsWithinLimits(resources: {
  limits?: Record<string, number | string> | undefined;
  requests?: Record<string, number | string> | undefined;
}): boolean {
  const { limits, requests } = resources;
  if (!limits || !requests) return true;
  return Object.entries(requests).every(([name, request]) => {
    const limit = limits[name];
    if (limit === undefined || !isQuantity(String(request)) || !isQuantity(String(limit))) {
      return true;
    }
    return compareQuantities(String(request), String(limit)) <= 0;
  });
}

const specObject = z.strictObject({
  image: z.string()
    .max(256, "spec.image must be at most 256 characters")
    .regex(new RegExp(IMAGE_PATTERN), RULE_MESSAGES.image)
    .default(DEFAULT_IMAGE),
  replicas: z.int({ error: "spec.replicas must be an integer from 1 to 10" })
    .min(1, "spec.replicas must be at least 1")
    .max(10, "spec.replicas must be at most 10")
    .default(DEFAULT_REPLICAS),
  databaseName: identifier("spec.databaseName").refine(
    (name) => !(RESERVED_DATABASE_NAMES as readonly string[]).includes(name),
    RULE_MESSAGES.databaseNameReserved,
  ),
  username: identifier("spec.username").refine(
    (name) => !name.startsWith("pg_") && !(RESERVED_USERNAMES as readonly string[]).includes(name),
    RULE_MESSAGES.reservedUsername,
  ),
  storage: z.strictObject({
    size: z.string()
      .max(64, "spec.storage.size must be at most 64 characters")
      .regex(new RegExp(SIZE_PATTERN), RULE_MESSAGES.sizeIsQuantity)
      .refine(
        (size) => !isQuantity(size) || compareQuantities(size, MIN_STORAGE_SIZE) >= 0,
        RULE_MESSAGES.sizeMinimum,
      ),
    storageClass: z.string()
      .max(253, "spec.storage.storageClass must be at most 253 characters")
      .regex(
        new RegExp(DNS_SUBDOMAIN_PATTERN),
        "spec.storage.storageClass must be a DNS subdomain such as standard or fast-ssd",
      )
      .optional(),
  }),
  resources: z.strictObject({
    limits: resourceList("limits").optional(),
    requests: resourceList("requests").optional(),
  })
    .refine(requestsWithinLimits, {
      path: ["requests"],
      message: RULE_MESSAGES.requestsWithinLimits,
    })
    .optional(),
  environment: z.enum(ENVIRONMENTS).optional(),
}).superRefine((spec, ctx) => {
  // The spec-level CEL rule, with the same guards against missing or malformed fields.
  const size: unknown = spec.storage?.size;
  if (
    typeof spec.replicas === "number" && spec.replicas > MAX_REPLICAS_WITHOUT_LARGE_STORAGE &&
    isQuantity(size) && parseQuantity(size) < parseQuantity(LARGE_STORAGE_SIZE)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["storage", "size"],
      message: RULE_MESSAGES.sizeForReplicas,
    });
  }
});

/**
 * Drops `null` object properties the way the API server prunes nulls of non-nullable fields
 * before defaulting, so `{ image: null }` gets the default image, as it would in the cluster.
 */
function pruneNulls(value: unknown): unknown {
  if (value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, pruneNulls(v)]),
  );
}

/**
 * The zod schema of `spec`: the CRD's single-object rules and defaults. Its output is a
 * {@linkcode DatabaseSpec}.
 *
 * @example Defaults, as the API server applies them
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const spec = databaseSpecSchema.parse({
 *   databaseName: "mydb",
 *   username: "admin",
 *   storage: { size: "10Gi" },
 * });
 * assert.equal(spec.image, "postgres:17");
 * assert.equal(spec.replicas, 1);
 * ```
 */
export const databaseSpecSchema = z.preprocess(pruneNulls, specObject);

/** The outcome of {@linkcode parseDatabaseSpec}. */
export type ParseDatabaseSpecResult =
  | { ok: true; spec: DatabaseSpec }
  | {
    ok: false;
    /** The first invalid field, spelled as the API server does: `spec.storage.size`. */
    field: string;
    /** A sentence naming the field, fit for a Failed status or an Event. */
    message: string;
  };

/**
 * Validates a Database's `spec` and applies its defaults, reporting the first problem only.
 *
 * @param raw The `spec` as read from the object, of unknown shape.
 * @returns The defaulted spec, or the first invalid field and a message that names it.
 *
 * @example A Failed status from a bad spec
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const result = parseDatabaseSpec({
 *   databaseName: "mydb",
 *   username: "admin",
 *   replicas: 6,
 *   storage: { size: "10Gi" },
 * });
 * assert.deepEqual(result, {
 *   ok: false,
 *   field: "spec.storage.size",
 *   message: "spec.storage.size must be at least 50Gi when spec.replicas is greater than 5",
 * });
 * ```
 */
export function parseDatabaseSpec(raw: unknown): ParseDatabaseSpecResult {
  const result = databaseSpecSchema.safeParse(raw);
  if (result.success) return { ok: true, spec: result.data };
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const field = ["spec", ...path, issue.keys[0]].join(".");
    return { ok: false, field, message: `${field} is not a known field` };
  }
  const field = ["spec", ...path].join(".");
  let message: string;
  if (issue.code === "invalid_type" && valueAt(pruneNulls(raw), path) === undefined) {
    message = `${field} is required`;
  } else if (issue.message.startsWith(`${field} `)) {
    message = issue.message;
  } else {
    message = `${field}: ${issue.message}`;
  }
  return { ok: false, field, message };
}

function valueAt(value: unknown, path: string[]): unknown {
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

// Fails to compile if the schema's output and the hand-written DatabaseSpec drift apart.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
const _outputIsDatabaseSpec: Equal<z.output<typeof databaseSpecSchema>, DatabaseSpec> = true;
