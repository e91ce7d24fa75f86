/**
 * The reconcile step for the primary of a Database with standbys: it reads what
 * {@linkcode decidePrimary} needs (the pods from the cache, the primary's node Lease, and while a
 * change is under way the instances themselves), carries out the decision as a status patch
 * guarded by the Database's resourceVersion (two operators, or two reconciles, can never both
 * promote), records an Event for each step, and says when to look again.
 *
 * @module
 */
import { type Database, type DatabaseSpec, podHost, primaryPod } from "../api/mod.ts";
import { DATABASE_POD_INDEX } from "../instances/mod.ts";
import { decidePrimary, type InstanceView, type PrimaryProbes } from "./failover.ts";
import { nodeCordoned, nodeLiveness, readNodeLease } from "./node_lease.ts";
import { probeInstance } from "./instance_probe.ts";
import { podView } from "./instance_view.ts";
import { act, roll } from "./primary_steps.ts";
import {
  forgetRequest,
  ownerCredentials,
  type PrimaryDeps,
  type PrimaryOutcome,
  reportSynchronous,
  TARGET_PRIMARY_ANNOTATION,
} from "./primary_writes.ts";

export type { PrimaryDeps, PrimaryOutcome };

export { TARGET_PRIMARY_ANNOTATION };

/** Decides and moves the primary of `db` (which has standbys). */
export async function ensurePrimary(
  deps: PrimaryDeps,
  given: Database,
  spec: DatabaseSpec,
  /** A switchover the operator needs (a scale-down below the primary), else the annotation's. */
  requested = given.metadata.annotations?.[TARGET_PRIMARY_ANNOTATION],
): Promise<PrimaryOutcome> {
  let db = given;
  const key = `${db.metadata.namespace}/${db.metadata.name}`;
  const now = deps.now();
  const current = primaryPod(db);
  const target = db.status?.targetPrimary || undefined;
  // A target another process (or this one before a restart) wrote: its grace starts now.
  if (target && !deps.targetsSince.has(key)) deps.targetsSince.set(key, now);
  const pods = new Map(
    deps.pods.store.list({ index: DATABASE_POD_INDEX, value: key })
      .map((pod) => [pod.metadata.name!, pod]),
  );
  const views: InstanceView[] = [];
  let recheck: number | undefined;
  for (let i = 0; i < spec.replicas; i++) {
    const name = `${db.metadata.name}-${i}`;
    const pod = pods.get(name);
    const view = podView(db, name, pod);
    const node = pod?.spec?.nodeName;
    // The primary's node, and any while a change of primary is under way.
    if (node && (name === current || target)) {
      const [lease, cordoned] = await Promise.all([
        readNodeLease(deps.client, node, deps.signal),
        name === current ? nodeCordoned(deps.client, node, deps.signal) : false,
      ]);
      const liveness = nodeLiveness(lease, now);
      view.nodeUnschedulable = cordoned;
      view.nodeLost = liveness.lost;
      if (liveness.lost) view.nodeLostSince = liveness.lostAt;
      else if (name === current && Number.isFinite(liveness.lostAt)) {
        recheck = liveness.lostAt - now + 100;
      }
    }
    views.push(view);
  }
  const probes: PrimaryProbes = {};
  let password: Awaited<ReturnType<typeof ownerCredentials>> | undefined;
  const ask = async (name: string) => {
    const ip = pods.get(name)?.status?.podIP;
    if (!ip) return undefined;
    password ??= await ownerCredentials(deps, db);
    return await probeInstance({ host: ip, ...password, servername: podHost(db, name) });
  };
  if (target && target !== current) {
    // Stopped as a primary: no answer, or (restarted to follow the target) as a standby.
    probes.oldStopped = (await ask(current))?.inRecovery !== false;
    if (views.some((v) => v.name === target && v.exists && !v.ready)) {
      probes.targetAnswers = (await ask(target))?.inRecovery === true;
    }
  }
  if (target && target === current) {
    probes.targetIsPrimary = (await ask(target))?.inRecovery === false;
  }
  const decision = decidePrimary(
    {
      current,
      target,
      targetSince: target ? deps.targetsSince.get(key) : undefined,
      requested,
      failoverDelay: spec.failoverDelay ?? 0,
    },
    views,
    now,
    probes,
  );
  let result: PrimaryOutcome;
  const asked = db.metadata.annotations?.[TARGET_PRIMARY_ANNOTATION];
  if (asked !== undefined && asked === current && !target && decision.kind === "steady") {
    // A request carried out is removed, so that it does not pull the primary back later (a
    // rolling update, a drain and a failover all move it on).
    return { db: await forgetRequest(deps, db), requeueAfterMs: 100 };
  }
  if (decision.kind === "steady" && !target) {
    if ((spec.synchronousReplicas ?? 0) > 0 || db.status?.synchronousStandbys?.length) {
      db = await reportSynchronous(deps, db, spec.synchronousReplicas ?? 0, await ask(current));
    }
    result = await roll(deps, db, views, pods, ask);
    if (decision.recheckAfterMs !== undefined) {
      result.requeueAfterMs = Math.min(result.requeueAfterMs ?? Infinity, decision.recheckAfterMs);
    }
  } else {
    result = await act(deps, db, decision, views, ask);
  }
  const after = [result.requeueAfterMs, recheck].filter((n): n is number => n !== undefined);
  return after.length > 0
    ? { ...result, requeueAfterMs: Math.max(100, Math.min(...after)) }
    : result;
}
