/**
 * The role label the operator keeps on each pod, which the read-only Service selects on.
 *
 * @module
 */
import { ApiError, CORE, type KubeClient, objectPath } from "../../runtime/client/mod.ts";
import { type Database, primaryPod, ROLE_LABEL } from "../api/mod.ts";
import type { Pod } from "./pod_health.ts";

/** The role of `pod` in `db`: ordinal 0 is the primary. */
export function podRole(db: Database, pod: Pod): "primary" | "replica" {
  return pod.metadata.name === primaryPod(db) ? "primary" : "replica";
}

/** Labels each pod with its role, patching only those whose label differs. */
export async function labelRoles(
  client: KubeClient,
  db: Database,
  pods: Pod[],
  signal?: AbortSignal,
): Promise<void> {
  await Promise.all(pods.map(async (pod) => {
    const role = podRole(db, pod);
    if (pod.metadata.labels?.[ROLE_LABEL] === role) return;
    await client.request(
      "PATCH",
      objectPath(CORE.pods, pod.metadata.namespace, pod.metadata.name!),
      {
        body: { metadata: { labels: { [ROLE_LABEL]: role } } },
        contentType: "application/merge-patch+json",
        signal,
      },
    ).catch((error) => {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    });
  }));
}
