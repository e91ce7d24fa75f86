/**
 * Growing `spec.storage.size` after creation. A StatefulSet's volumeClaimTemplates are
 * immutable, so the existing PVCs are resized directly, where their StorageClass allows
 * expansion, and the claims of new ordinals are made at the new size before a scale-up. The size
 * last applied is kept in an annotation on the StatefulSet, so these slow paths (which read PVCs
 * and the StorageClass from the API) run only when the size or the replicas grow.
 *
 * @module
 */
import {
  ApiError,
  collectionPath,
  CORE,
  type KubeClient,
  type KubeObject,
  objectPath,
} from "../../runtime/client/mod.ts";
import { compareQuantities, type Database, selectorLabels } from "../api/mod.ts";
import type { VolumeClaimTemplate } from "./statefulset.ts";

/** Annotation on the StatefulSet: the storage size its PVCs have been grown to. */
export const STORAGE_SIZE_ANNOTATION = "database.example.com/storage-size";

interface Claim extends KubeObject {
  spec: { storageClassName?: string; resources?: { requests?: { storage?: string } } };
}

/**
 * Asks for every PVC of the Database to be at least `size`.
 * @returns a reason when some volume cannot grow, else undefined.
 * @throws {ApiError} when the API cannot be read or written (retryable).
 */
export async function growVolumes(
  client: KubeClient,
  db: Database,
  size: string,
  fieldManager: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const claims = await listClaims(client, db, signal);
  const expandable = new Map<string, boolean>();
  const refused: string[] = [];
  for (const claim of claims) {
    const current = claim.spec.resources?.requests?.storage;
    if (current && compareQuantities(current, size) >= 0) continue;
    const className = claim.spec.storageClassName ?? "";
    if (!expandable.has(className)) {
      expandable.set(
        className,
        className ? await allowsExpansion(client, className, signal) : false,
      );
    }
    if (!expandable.get(className)) {
      refused.push(claim.metadata.name!);
      continue;
    }
    await client.request(
      "PATCH",
      objectPath(CORE.persistentVolumeClaims, claim.metadata.namespace, claim.metadata.name!),
      {
        body: { spec: { resources: { requests: { storage: size } } } },
        contentType: "application/merge-patch+json",
        query: { fieldManager },
        signal,
      },
    );
  }
  if (refused.length === 0) return undefined;
  return `Cannot grow ${
    refused.join(", ")
  } to ${size}: StorageClass does not allow volume expansion`;
}

/**
 * Before a scale-up of a StatefulSet whose volumeClaimTemplate is smaller than `size` (because
 * storage grew after creation), creates the claims of the new ordinals at `size`, so the
 * StatefulSet controller finds them instead of making small ones from the template.
 *
 * @param template The StatefulSet's live (immutable) claim template.
 * @param replicas Ordinals `0 … replicas - 1` get a claim if they have none.
 * @returns The names of the claims created.
 * @throws {ApiError} when the API cannot be read or written (retryable).
 */
export async function createMissingClaims(
  client: KubeClient,
  db: Database,
  template: VolumeClaimTemplate,
  size: string,
  replicas: number,
  fieldManager: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const claims = await listClaims(client, db, signal);
  const existing = new Set(claims.map((claim) => claim.metadata.name));
  const created: string[] = [];
  for (let ordinal = 0; ordinal < replicas; ordinal++) {
    // The StatefulSet controller's naming: <template>-<statefulset>-<ordinal>.
    const name = `${template.metadata.name}-${db.metadata.name}-${ordinal}`;
    if (existing.has(name)) continue;
    try {
      await client.request(
        "POST",
        collectionPath(CORE.persistentVolumeClaims, db.metadata.namespace),
        {
          body: {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: { name, labels: template.metadata.labels ?? selectorLabels(db) },
            spec: {
              ...template.spec,
              resources: { requests: { storage: size } },
            },
          },
          query: { fieldManager },
          signal,
        },
      );
      created.push(name);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409)) throw error;
    }
  }
  return created;
}

async function listClaims(
  client: KubeClient,
  db: Database,
  signal?: AbortSignal,
): Promise<Claim[]> {
  const selector = Object.entries(selectorLabels(db)).map(([k, v]) => `${k}=${v}`).join(",");
  const claims = await client.request<{ items: Claim[] }>(
    "GET",
    collectionPath(CORE.persistentVolumeClaims, db.metadata.namespace),
    { query: { labelSelector: selector }, signal },
  );
  return claims.items;
}

async function allowsExpansion(
  client: KubeClient,
  name: string,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    const storageClass = await client.request<{ allowVolumeExpansion?: boolean }>(
      "GET",
      `/apis/storage.k8s.io/v1/storageclasses/${encodeURIComponent(name)}`,
      { signal },
    );
    return storageClass.allowVolumeExpansion === true;
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return false;
    throw error;
  }
}
