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
import { backupSchema, restoreSchema } from "./backup_spec.ts";
import { compareQuantities, isQuantity, parseQuantity } from "./quantity.ts";
import {
  DEFAULT_IMAGE,
  DEFAULT_REPLICAS,
  DNS_SUBDOMAIN_PATTERN,
  IDENTIFIER_PATTERN,
  IMAGE_PATTERN,
  LABEL_KEY_PATTERN,
  LARGE_STORAGE_SIZE,
  MAX_REPLICAS_WITHOUT_LARGE_STORAGE,
  MAX_RESOURCE_ENTRIES,
  MIN_STORAGE_SIZE,
  RESERVED_DATABASE_NAMES,
  RESERVED_USERNAMES,
  RESOURCE_NAMES,
  RESOURCE_QUANTITY_PATTERN,
  RULE_MESSAGES,
  SIZE_PATTERN,
} from "./spec_rules.ts";
import { type DatabaseSpec, ENVIRONMENTS } from "./types.ts";

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
  synchronousReplicas: z.int({ error: "spec.synchronousReplicas must be an integer from 0 to 9" })
    .min(0, "spec.synchronousReplicas must be at least 0")
    .max(9, "spec.synchronousReplicas must be at most 9")
    .optional(),
  failoverDelay: z.int({ error: "spec.failoverDelay must be an integer from 0 to 3600" })
    .min(0, "spec.failoverDelay must be at least 0")
    .max(3600, "spec.failoverDelay must be at most 3600")
    .optional(),
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
  affinity: z.strictObject({
    enablePodAntiAffinity: z.boolean({
      error: "spec.affinity.enablePodAntiAffinity must be true or false",
    })
      .optional(),
    podAntiAffinityType: z.enum(["preferred", "required"], {
      error: "spec.affinity.podAntiAffinityType must be preferred or required",
    }).optional(),
    topologyKey: z.string()
      .max(317, "spec.affinity.topologyKey must be at most 317 characters")
      .regex(new RegExp(LABEL_KEY_PATTERN), "spec.affinity.topologyKey must be a label key")
      .optional(),
  }).optional(),
  backup: backupSchema.optional(),
  restore: restoreSchema.optional(),
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
  if (
    typeof spec.synchronousReplicas === "number" && spec.synchronousReplicas > 0 &&
    !(typeof spec.replicas === "number" && spec.synchronousReplicas < spec.replicas)
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["synchronousReplicas"],
      message: RULE_MESSAGES.synchronousReplicas,
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
