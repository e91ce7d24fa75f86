/**
 * Volumes a non-root pod can write: kube-controller-manager's host-path provisioner makes each
 * volume's folder `0750 root:root`, and host-path volumes ignore `fsGroup`, so PostgreSQL
 * (uid 999) could not initialise its data directory. kind's local-path provisioner makes its
 * folders world-writable; this watch does the same to every host-path volume as soon as its
 * PersistentVolume appears, which is before any pod can be bound to it.
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
 * Watches PersistentVolumes until `signal` aborts, opening each host-path folder to all and
 * adding it to `seen` (so it can be removed even when the API server is gone).
 */
export async function watchVolumePermissions(
  client: KubeClient,
  seen: Set<string>,
  signal: AbortSignal,
): Promise<void> {
  const open = async (pv: PersistentVolume) => {
    const path = pv.spec?.hostPath?.path;
    if (!path?.startsWith(HOST_PATH_VOLUMES)) return;
    seen.add(path);
    await Deno.chmod(path, 0o777).catch(() => {});
  };
  while (!signal.aborted) {
    try {
      const list = await client.request<
        { metadata: { resourceVersion: string }; items: PersistentVolume[] }
      >("GET", "/api/v1/persistentvolumes");
      for (const pv of list.items) await open(pv);
      const events = client.watch(
        "/api/v1/persistentvolumes",
        { resourceVersion: list.metadata.resourceVersion },
        signal,
      );
      for await (const event of events) await open(event.object as unknown as PersistentVolume);
    } catch {
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
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
