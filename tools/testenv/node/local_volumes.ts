/**
 * Node-local volumes for the real nodes, as kind's local-path provisioner makes them: when the
 * scheduler has picked a node for a pod whose claim uses the `standard` StorageClass
 * (`WaitForFirstConsumer`), a folder is made under that node's volume root and a hostPath
 * PersistentVolume with node affinity to that node is bound to the claim; so the pod, wherever
 * it is recreated, comes back to the node that holds its data. A released volume (its claim
 * deleted) is removed with its folder. Folders are world-writable (host-path volumes ignore
 * `fsGroup`; PostgreSQL runs as uid 999) and live under the cluster's folder: a failed node's
 * disk stays, and `stop` removes it with the cluster.
 *
 * @module
 */
import type { KubeClient } from "../../../src/runtime/client/mod.ts";

/** The StorageClass provisioner name this serves. */
export const LOCAL_PATH_PROVISIONER = "postgres-operator.example.com/local-path";

const SELECTED_NODE = "volume.kubernetes.io/selected-node";
const STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";
const PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";

/** Where node `name` keeps its volumes, under the cluster's folder. */
export function volumeRoot(clusterDir: string, name: string): string {
  return `${clusterDir}/nodes/${name}/volumes`;
}

interface Claim {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    annotations?: Record<string, string>;
  };
  spec: {
    volumeName?: string;
    storageClassName?: string;
    accessModes?: string[];
    volumeMode?: string;
    resources?: { requests?: { storage?: string } };
  };
}

interface Volume {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { hostPath?: { path: string }; persistentVolumeReclaimPolicy?: string };
  status?: { phase?: string };
}

/** Provisions and deletes volumes until `signal` aborts; errors are retried, not thrown. */
export async function serveLocalVolumes(
  client: KubeClient,
  clusterDir: string,
  signal: AbortSignal,
): Promise<void> {
  await Promise.all([
    listWatch<Claim>(
      client,
      "/api/v1/persistentvolumeclaims",
      signal,
      (claim) => provision(client, clusterDir, claim),
    ),
    listWatch<Volume>(
      client,
      "/api/v1/persistentvolumes",
      signal,
      (volume) => reclaim(client, clusterDir, volume),
    ),
  ]);
}

async function provision(client: KubeClient, clusterDir: string, claim: Claim): Promise<void> {
  const annotations = claim.metadata.annotations ?? {};
  const node = annotations[SELECTED_NODE];
  if (claim.spec.volumeName || !node) return;
  if (annotations[STORAGE_PROVISIONER] !== LOCAL_PATH_PROVISIONER) return;
  const { namespace, name, uid } = claim.metadata;
  const path = `${volumeRoot(clusterDir, node)}/pvc-${uid}_${namespace}_${name}`;
  await Deno.mkdir(path, { recursive: true });
  await Deno.chmod(path, 0o777);
  await client.request("POST", "/api/v1/persistentvolumes", {
    body: {
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `pvc-${uid}`, annotations: { [PROVISIONED_BY]: LOCAL_PATH_PROVISIONER } },
      spec: {
        capacity: { storage: claim.spec.resources?.requests?.storage ?? "1Gi" },
        accessModes: claim.spec.accessModes ?? ["ReadWriteOnce"],
        volumeMode: claim.spec.volumeMode ?? "Filesystem",
        persistentVolumeReclaimPolicy: "Delete",
        storageClassName: claim.spec.storageClassName,
        claimRef: { apiVersion: "v1", kind: "PersistentVolumeClaim", namespace, name, uid },
        hostPath: { path, type: "Directory" },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [{
              matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }],
            }],
          },
        },
      },
    },
  }).catch((error) => {
    // Provisioned already (the claim was seen again before it was bound).
    if ((error as { code?: number }).code !== 409) throw error;
  });
}

async function reclaim(client: KubeClient, clusterDir: string, volume: Volume): Promise<void> {
  if (volume.metadata.annotations?.[PROVISIONED_BY] !== LOCAL_PATH_PROVISIONER) return;
  if (volume.status?.phase !== "Released") return;
  if (volume.spec.persistentVolumeReclaimPolicy !== "Delete") return;
  const path = volume.spec.hostPath?.path;
  if (path?.startsWith(`${clusterDir}/nodes/`)) {
    await Deno.remove(path, { recursive: true }).catch(() => {});
  }
  await client.request("DELETE", `/api/v1/persistentvolumes/${volume.metadata.name}`)
    .catch((error) => {
      if ((error as { code?: number }).code !== 404) throw error;
    });
}

/** Lists, then watches from the list's version, calling `handle` for each live object. */
async function listWatch<T>(
  client: KubeClient,
  path: string,
  signal: AbortSignal,
  handle: (object: T) => Promise<void>,
): Promise<void> {
  const safely = (object: T) => handle(object).catch(() => {});
  while (!signal.aborted) {
    try {
      const list = await client.request<{ metadata: { resourceVersion: string }; items: T[] }>(
        "GET",
        path,
        { signal },
      );
      for (const item of list.items) await safely(item);
      const query = { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true };
      for await (const event of client.watch(path, query, signal)) {
        if (event.type === "ADDED" || event.type === "MODIFIED") {
          await safely(event.object as unknown as T);
        }
      }
    } catch {
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
