/**
 * The reconcile step for the primary of a Database with standbys: it reads what
 * {@linkcode decidePrimary} needs (the pods from the cache, the primary's node Lease, and while a
 * change is under way the instances themselves), carries out the decision as a status patch
 * guarded by the Database's resourceVersion (two operators, or two reconciles, can never both
 * promote), records an Event for each step, and says when to look again.
 *
 * @module
 */
import { type KubeClient, objectPath } from "../../runtime/client/mod.ts";
import type { Informer } from "../../runtime/cache/mod.ts";
import type { EventRecorder } from "../../runtime/controller/mod.ts";
import {
  type Database,
  DATABASE_RESOURCE,
  type DatabaseSpec,
  FIELD_MANAGER,
  primaryPod,
  secretName,
} from "../api/mod.ts";
import { DATABASE_POD_INDEX, type Pod } from "../instances/mod.ts";
import { decidePrimary, type InstanceView, type PrimaryDecision } from "./failover.ts";
import { nodeCordoned, nodeLiveness, readNodeLease } from "./node_lease.ts";
import { type InstanceReport, probeInstance } from "./instance_probe.ts";

/** The annotation that asks for a switchover to the pod it names. */
export const TARGET_PRIMARY_ANNOTATION = "database.example.com/target-primary";

/** What the step reads and writes through. */
export interface PrimaryDeps {
  client: KubeClient;
  pods: Informer<Pod>;
  events: EventRecorder;
  now: () => number;
  /** When this process wrote each Database's `targetPrimary` (key → ms). */
  targetsSince: Map<string, number>;
  signal?: AbortSignal | undefined;
}

/** The Database as it is after the step, and when to look again. */
export interface PrimaryOutcome {
  db: Database;
  requeueAfterMs?: number;
}

/** Decides and moves the primary of `db` (which has standbys). */
export async function ensurePrimary(
  deps: PrimaryDeps,
  db: Database,
  spec: DatabaseSpec,
): Promise<PrimaryOutcome> {
  const key = `${db.metadata.namespace}/${db.metadata.name}`;
  const now = deps.now();
  const current = primaryPod(db);
  const target = db.status?.targetPrimary || undefined;
  const pods = new Map(
    deps.pods.store.list({ index: DATABASE_POD_INDEX, value: key })
      .map((pod) => [pod.metadata.name!, pod]),
  );
  const views: InstanceView[] = [];
  let recheck: number | undefined;
  for (let i = 0; i < spec.replicas; i++) {
    const name = `${db.metadata.name}-${i}`;
    const pod = pods.get(name);
    const ready = pod?.status?.conditions?.find((c) => c.type === "Ready");
    const readySince = ready?.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : undefined;
    const server = pod?.status?.containerStatuses?.find((c) => c.name === "postgres");
    const startedAt = Date.parse(
      (server?.state as { running?: { startedAt?: string } } | undefined)?.running?.startedAt ??
        "",
    );
    const view: InstanceView = {
      name,
      exists: pod !== undefined && !pod.metadata.deletionTimestamp,
      ready: ready?.status === "True",
      readySince,
      // Not ready since before its server (re)started: still starting. A server that never
      // ran, or waits to be restarted after crashes, counts as starting only on its first run.
      starting: Number.isNaN(startedAt)
        ? (server?.restartCount ?? 0) === 0
        : readySince === undefined || readySince <= startedAt,
      nodeLost: false,
      nodeUnschedulable: false,
    };
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
  const probes: { oldStopped?: boolean; targetIsPrimary?: boolean } = {};
  let password: { user: string; password: string } | undefined;
  const ask = async (name: string) => {
    const ip = pods.get(name)?.status?.podIP;
    if (!ip) return undefined;
    password ??= await credentials(deps, db);
    return await probeInstance({ host: ip, ...password });
  };
  if (target && target !== current) probes.oldStopped = (await ask(current)) === undefined;
  if (target && target === current) {
    probes.targetIsPrimary = (await ask(target))?.inRecovery === false;
  }
  const decision = decidePrimary(
    {
      current,
      target,
      targetSince: target ? deps.targetsSince.get(key) : undefined,
      requested: db.metadata.annotations?.[TARGET_PRIMARY_ANNOTATION],
      failoverDelay: spec.failoverDelay ?? 0,
    },
    views,
    now,
    probes,
  );
  const result = await act(deps, db, decision, views, ask);
  const after = [result.requeueAfterMs, recheck].filter((n): n is number => n !== undefined);
  return after.length > 0
    ? { ...result, requeueAfterMs: Math.max(100, Math.min(...after)) }
    : result;
}

async function act(
  deps: PrimaryDeps,
  db: Database,
  decision: PrimaryDecision,
  views: InstanceView[],
  ask: (name: string) => Promise<InstanceReport | undefined>,
): Promise<PrimaryOutcome> {
  const key = `${db.metadata.namespace}/${db.metadata.name}`;
  const current = primaryPod(db);
  switch (decision.kind) {
    case "steady":
      return {
        db,
        ...(decision.recheckAfterMs ? { requeueAfterMs: decision.recheckAfterMs } : {}),
      };
    case "fencing":
      return { db, requeueAfterMs: decision.recheckAfterMs };
    case "refused":
      deps.events.record(db, "Warning", "SwitchoverRefused", "Switchover", decision.message);
      return { db };
    case "failover":
    case "switchover": {
      const candidates = views.filter((v) =>
        v.name !== current && v.exists && !v.nodeLost &&
        (decision.kind === "failover" || (v.ready && !v.nodeUnschedulable)) &&
        (decision.kind === "failover" || !decision.to || v.name === decision.to)
      );
      const best = await mostAdvanced(candidates.map((v) => v.name), ask);
      if (!best) {
        deps.events.record(
          db,
          "Warning",
          "NoStandbyToPromote",
          decision.kind === "failover" ? "Failover" : "Switchover",
          `${decision.message}, and no standby answers to take over`,
        );
        return { db, requeueAfterMs: 2_000 };
      }
      const fenced = decision.kind === "failover" && decision.fenced;
      const next = await patchPrimary(deps, db, {
        targetPrimary: best,
        ...(fenced ? { currentPrimary: best } : {}),
      });
      deps.targetsSince.set(key, deps.now());
      deps.events.record(
        db,
        "Warning",
        decision.kind === "failover" ? "FailingOver" : "SwitchingOver",
        decision.kind === "failover" ? "Failover" : "Switchover",
        `${decision.message}; promoting ${best}`,
      );
      return { db: next, requeueAfterMs: 500 };
    }
    case "promote": {
      const next = await patchPrimary(deps, db, { currentPrimary: decision.target });
      deps.events.record(
        db,
        "Normal",
        "Promoting",
        "Failover",
        `${current} has stopped serving; ${decision.target} becomes the primary`,
      );
      return { db: next, requeueAfterMs: 500 };
    }
    case "complete": {
      const next = await patchPrimary(deps, db, { targetPrimary: null });
      deps.targetsSince.delete(key);
      deps.events.record(
        db,
        "Normal",
        "Promoted",
        "Failover",
        `${decision.target} is the primary`,
      );
      return { db: next };
    }
  }
}

/** The standby with the most WAL among `names` that answer as standbys; lowest name on a tie. */
async function mostAdvanced(
  names: string[],
  ask: (name: string) => Promise<InstanceReport | undefined>,
): Promise<string | undefined> {
  const reports = await Promise.all(names.map(async (name) => ({ name, report: await ask(name) })));
  let best: { name: string; lsn: bigint } | undefined;
  for (const { name, report } of reports.sort((a, b) => a.name < b.name ? -1 : 1)) {
    if (!report?.inRecovery) continue;
    if (!best || report.lsn > best.lsn) best = { name, lsn: report.lsn };
  }
  return best?.name;
}

/** A status patch of the primary's fields, refused (409) if the Database changed meanwhile. */
async function patchPrimary(
  deps: PrimaryDeps,
  db: Database,
  fields: { currentPrimary?: string; targetPrimary?: string | null },
): Promise<Database> {
  const updated = await deps.client.request<Database>(
    "PATCH",
    objectPath(DATABASE_RESOURCE, db.metadata.namespace, db.metadata.name!, "status"),
    {
      body: { metadata: { resourceVersion: db.metadata.resourceVersion }, status: fields },
      contentType: "application/merge-patch+json",
      query: { fieldManager: FIELD_MANAGER },
      signal: deps.signal,
    },
  );
  return { ...db, metadata: updated.metadata, status: updated.status ?? {} };
}

async function credentials(deps: PrimaryDeps, db: Database) {
  const secret = await deps.client.request<{ data?: Record<string, string> }>(
    "GET",
    objectPath(
      { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true },
      db.metadata.namespace,
      secretName(db),
    ),
    { signal: deps.signal },
  );
  const decode = (key: string) => atob(secret.data?.[key] ?? "");
  return { user: decode("username"), password: decode("password") };
}
