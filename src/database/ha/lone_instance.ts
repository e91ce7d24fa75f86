/**
 * A Database of one instance has nobody to fail over to: when its node dies or is cut off,
 * writes stop until the node returns. This step says so in status (Ready False, reason
 * `NodeLost`) and with an Event, instead of "0/1 replicas ready". The Lease is read only once
 * the pod that served has stopped being ready, so a healthy or starting Database costs no
 * request.
 *
 * @module
 */
import type { KubeClient } from "../../runtime/client/mod.ts";
import type { Informer } from "../../runtime/cache/mod.ts";
import type { EventRecorder } from "../../runtime/controller/mod.ts";
import type { Database } from "../api/mod.ts";
import type { Pod, PodProblem } from "../instances/mod.ts";
import { podView } from "./instance_view.ts";
import { nodeLiveness, readNodeLease } from "./node_lease.ts";

/** What {@linkcode loneInstanceProblem} reads through. */
export interface LoneInstanceDeps {
  client: KubeClient;
  pods: Informer<Pod>;
  events: EventRecorder;
  now: () => number;
  signal?: AbortSignal | undefined;
}

/** The problem of the single instance of `db`, if its node is lost, and when to look again. */
export async function loneInstanceProblem(
  deps: LoneInstanceDeps,
  db: Database,
): Promise<{ problem?: PodProblem; recheckAfterMs?: number }> {
  const name = `${db.metadata.name}-0`;
  const pod = deps.pods.store.get(`${db.metadata.namespace}/${name}`);
  const view = podView(db, name, pod);
  const node = pod?.spec?.nodeName;
  if (!view.exists || view.ready || view.starting || !node) return {};
  const now = deps.now();
  const liveness = nodeLiveness(await readNodeLease(deps.client, node, deps.signal), now);
  if (!liveness.lost) {
    return Number.isFinite(liveness.lostAt)
      ? { recheckAfterMs: Math.max(100, liveness.lostAt - now + 100) }
      : {};
  }
  const problem = {
    reason: "NodeLost",
    message: `The only instance ${name} is on node ${node}, which stopped renewing its Lease: ` +
      "writes stop until the node returns (spec.replicas 1 has no standby to take over)",
  };
  const ready = db.status?.conditions?.find((c) => c.type === "Ready");
  if (ready?.reason !== problem.reason) {
    deps.events.record(db, "Warning", problem.reason, "Failover", problem.message);
  }
  return { problem };
}
