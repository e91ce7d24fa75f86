/**
 * What the Database controller keeps of its owned objects in memory: the metadata it reads, the
 * fields it sets (so it can still tell whether they drifted), and the status it reads. Server
 * defaults and everything else are dropped when objects enter the cache.
 *
 * @module
 */
import {
  MANAGERS_SHAPE,
  mergeShapes,
  projection,
  type Shape,
  shapeOf,
} from "../runtime/cache/mod.ts";
import type { Secret } from "./secret.ts";
import { type CachedSecret, digestSecret } from "./secret_digest.ts";
import {
  desiredPodsService,
  desiredReadOnlyService,
  desiredService,
  type Service,
} from "./service.ts";
import { desiredStatefulSet, type StatefulSet } from "./statefulset.ts";
import type { Database, DatabaseSpec } from "./types.ts";

/** A spec with every optional field set, so its objects show every field we may set. */
const FULL_SPEC: DatabaseSpec = {
  image: "postgres:17",
  replicas: 3,
  databaseName: "db",
  username: "user",
  storage: { size: "1Gi", storageClass: "standard" },
  resources: { limits: {}, requests: {} },
  environment: "production",
};
const EXAMPLE: Database = {
  metadata: { name: "example", namespace: "example", uid: "example" },
  spec: FULL_SPEC,
};

/** Fields holding maps with arbitrary keys (labels, quantities, data): kept whole. */
const MAPS = new Set(["labels", "annotations", "matchLabels", "resources"]);

function openMaps(shape: Shape): Shape {
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
const WRITERS = { managedFields: MANAGERS_SHAPE };

/** Cache transform of owned StatefulSets. */
export const projectStatefulSet = projection<StatefulSet>({
  metadata: WRITERS,
  spec: openMaps(shapeOf(desiredStatefulSet(EXAMPLE, FULL_SPEC, undefined, "version").spec)),
  status: { observedGeneration: true, replicas: true, readyReplicas: true, updatedReplicas: true },
});

/** Cache transform of owned Services (the read-write, read-only and headless ones). */
export const projectService = projection<Service>({
  metadata: WRITERS,
  spec: openMaps(
    mergeShapes(
      [desiredService, desiredReadOnlyService, desiredPodsService].map((desired) =>
        shapeOf(desired(EXAMPLE).spec)
      ),
    ),
  ),
});

/**
 * Cache transform of Databases: the metadata essentials, spec and status (all of it: the status
 * is compared whole before a write, and metrics read its phase), without `managedFields` and
 * `kubectl apply`'s copy of the object.
 */
export const projectDatabase = projection<Database>({ spec: true, status: true });

const secretMetadata = projection<Secret>({ type: true });

/**
 * Cache transform of owned Secrets: metadata and type, and a digest instead of the data (see
 * `secret_digest.ts`), so no password stays in the operator's memory.
 */
export function projectSecret(secret: Secret): CachedSecret {
  const digest = digestSecret(secret);
  const { apiVersion, kind, metadata, type } = secretMetadata(secret);
  // One literal, not a spread: V8 lays it out in place, without a separate property array.
  return digest
    ? { apiVersion, kind, metadata, type, digest }
    : { apiVersion, kind, metadata, type };
}
