/**
 * Marks which replica leads, on the replicas' own pods: the elected one labels its pod
 * `<key>: "true"`, every other one (and a restarted former leader) `"false"`. A Service that
 * selects the label reaches the leader only, so what a client reads there (the metrics endpoint:
 * reconcile counters, queue depth) is the working replica's, never an idle follower's.
 *
 * @module
 */
import type { KubeClient } from "../client/mod.ts";
import type { Logger } from "../observability/mod.ts";

/** The pod this process runs in, from the downward API (`POD_NAMESPACE`, `POD_NAME`). */
export interface PodIdentity {
  namespace: string;
  name: string;
}

/**
 * Sets `key` on the pod to `"true"` or `"false"` with a merge patch. A failure (no such pod when
 * run outside one, no permission) is logged and otherwise ignored: the label only routes
 * clients, nothing in the operator depends on it.
 */
export async function setLeaderLabel(
  client: KubeClient,
  pod: PodIdentity,
  key: string,
  leader: boolean,
  logger: Logger,
): Promise<void> {
  try {
    await client.request("PATCH", `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`, {
      body: { metadata: { labels: { [key]: String(leader) } } },
      contentType: "application/merge-patch+json",
    });
  } catch (error) {
    logger.info("Cannot label this replica's pod", { pod: pod.name, label: key, error });
  }
}
