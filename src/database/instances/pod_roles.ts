/**
 * The role label the operator keeps on each pod: `primary` on `status.currentPrimary`, which
 * the read-write Service `<name>` selects, `replica` on the others, which `<name>-ro` selects.
 *
 * @module
 */
import { ApiError, CORE, type KubeClient, objectPath } from "../../runtime/client/mod.ts";
import { type Database, primaryPod, ROLE_LABEL } from "../api/mod.ts";
import type { Pod } from "./pod_health.ts";

/** The role of `pod` in `db`, as the operator decided it (`status.currentPrimary`). */
export function podRole(db: Database, pod: Pod): "primary" | "replica" {
  return pod.metadata.name === primaryPod(db) ? "primary" : "replica";
}

/**
 * Labels each pod with its role, patching only those whose label differs: the former primary
 * first, so that `<name>` never selects two pods.
 */
export async function labelRoles(
  client: KubeClient,
  db: Database,
  pods: Pod[],
  signal?: AbortSignal,
): Promise<void> {
  const wrong = pods.filter((pod) => pod.metadata.labels?.[ROLE_LABEL] !== podRole(db, pod));
  const label = async (pod: Pod) => {
    await client.request(
      "PATCH",
      objectPath(CORE.pods, pod.metadata.namespace, pod.metadata.name!),
      {
        body: { metadata: { labels: { [ROLE_LABEL]: podRole(db, pod) } } },
        contentType: "application/merge-patch+json",
        signal,
      },
    ).catch((error) => {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    });
  };
  await Promise.all(wrong.filter((pod) => podRole(db, pod) === "replica").map(label));
  await Promise.all(wrong.filter((pod) => podRole(db, pod) === "primary").map(label));
}
