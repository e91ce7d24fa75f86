/**
 * The folders of kube-controller-manager's host-path provisioner, which serves the `standard`
 * StorageClass of clusters without real nodes (KWOK's pods run nothing, so nothing writes
 * them; real nodes have their own provisioner, `local_volumes.ts`): removed on stop, since
 * they live outside the cluster's folder.
 *
 * @module
 */
import type { KubeClient } from "../../../src/runtime/client/mod.ts";

/** Where kube-controller-manager's host-path provisioner puts volumes. */
export const HOST_PATH_VOLUMES = "/tmp/hostpath_pv/";

interface PersistentVolume {
  metadata: { name: string; resourceVersion?: string };
  spec?: { hostPath?: { path?: string } };
}

/**
 * Removes the folders of the cluster's host-path volumes, which outlive the cluster otherwise:
 * those `known` and those the API server lists (if it answers within 5 s).
 */
export async function removeHostPathVolumes(
  client: KubeClient | undefined,
  known: Iterable<string> = [],
): Promise<void> {
  const paths = new Set(known);
  const list = await client?.request<{ items: PersistentVolume[] }>(
    "GET",
    "/api/v1/persistentvolumes",
    { signal: AbortSignal.timeout(5_000) },
  ).catch(() => undefined);
  for (const pv of list?.items ?? []) {
    if (pv.spec?.hostPath?.path) paths.add(pv.spec.hostPath.path);
  }
  for (const path of paths) {
    if (path.startsWith(HOST_PATH_VOLUMES)) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
  // The provisioner's parent folder, once no cluster uses it.
  await Deno.remove(HOST_PATH_VOLUMES).catch(() => {});
}
