/**
 * Growing `spec.storage.size` after creation. A StatefulSet's volumeClaimTemplates are
 * immutable, so the existing PVCs are resized directly, where their StorageClass allows
 * expansion. The size last applied is kept in an annotation on the StatefulSet, so this slow
 * path (which reads PVCs and the StorageClass from the API) runs only when the size changes.
 *
 * @module
 */
import { ApiError, type KubeClient } from "../runtime/kube_client.ts";
import { collectionPath, CORE, type KubeObject, objectPath } from "../runtime/resource.ts";
import { selectorLabels } from "./labels.ts";
import { compareQuantities } from "./quantity.ts";
import type { Database } from "./types.ts";

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
): Promise<string | undefined> {
  const selector = Object.entries(selectorLabels(db)).map(([k, v]) => `${k}=${v}`).join(",");
  const claims = await client.request<{ items: Claim[] }>(
    "GET",
    collectionPath(CORE.persistentVolumeClaims, db.metadata.namespace),
    { query: { labelSelector: selector } },
  );
  const expandable = new Map<string, boolean>();
  const refused: string[] = [];
  for (const claim of claims.items) {
    const current = claim.spec.resources?.requests?.storage;
    if (current && compareQuantities(current, size) >= 0) continue;
    const className = claim.spec.storageClassName ?? "";
    if (!expandable.has(className)) {
      expandable.set(className, className ? await allowsExpansion(client, className) : false);
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
      },
    );
  }
  if (refused.length === 0) return undefined;
  return `Cannot grow ${
    refused.join(", ")
  } to ${size}: StorageClass does not allow volume expansion`;
}

async function allowsExpansion(client: KubeClient, name: string): Promise<boolean> {
  try {
    const storageClass = await client.request<{ allowVolumeExpansion?: boolean }>(
      "GET",
      `/apis/storage.k8s.io/v1/storageclasses/${encodeURIComponent(name)}`,
    );
    return storageClass.allowVolumeExpansion === true;
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return false;
    throw error;
  }
}
