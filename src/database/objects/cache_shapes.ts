/**
 * What the Database controller keeps of its owned objects in memory: the metadata it reads, the
 * fields it sets (so it can still tell whether they drifted), and the status it reads. Server
 * defaults and everything else are dropped when objects enter the cache. Each room projects its
 * own objects (`projectSecret`, `projectService`, `projectStatefulSet`) from the shapes of what
 * it would write for {@linkcode FULL_EXAMPLE}, with the helpers here.
 *
 * @module
 */
import { MANAGERS_SHAPE, type Shape } from "../../runtime/cache/mod.ts";
import type { Database, DatabaseSpec } from "../api/mod.ts";

/** A spec with every optional field set, so its objects show every field we may set. */
export const FULL_SPEC: DatabaseSpec = {
  image: "postgres:17",
  replicas: 3,
  synchronousReplicas: 1,
  failoverDelay: 0,
  databaseName: "db",
  username: "user",
  storage: { size: "1Gi", storageClass: "standard" },
  resources: { limits: {}, requests: {} },
  environment: "production",
  backup: {
    objectStore: { endpoint: "https://s3", bucket: "backups", path: "a/b", secret: "s3" },
    retention: "30d",
    archiveTimeout: "60s",
  },
  restore: {
    objectStore: { endpoint: "https://s3", bucket: "backups", path: "a/b", secret: "s3" },
    targetTime: "2026-01-01T00:00:00Z",
  },
};

/** A Database with {@linkcode FULL_SPEC}. */
export const FULL_EXAMPLE: Database = {
  metadata: { name: "example", namespace: "example", uid: "example" },
  spec: FULL_SPEC,
};

/**
 * Fields holding maps with arbitrary keys (labels, quantities, data), or shapes that vary with
 * the spec (a preferred or required affinity): kept whole.
 */
const MAPS = new Set(["labels", "annotations", "matchLabels", "resources", "affinity"]);

/** `shape` with the maps of arbitrary keys in it kept whole. */
export function openMaps(shape: Shape): Shape {
  if (shape === true) return true;
  if (Array.isArray(shape)) return shape.map(openMaps);
  return Object.fromEntries(
    Object.entries(shape).map(([key, child]) => [key, MAPS.has(key) ? true : openMaps(child)]),
  );
}

/**
 * Who wrote an owned object how: the reconciler creates with a POST, and moves that `Update`
 * entry to its apply's before it first applies (`managed_fields.ts`).
 */
export const WRITERS = { managedFields: MANAGERS_SHAPE };
