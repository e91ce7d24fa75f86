/**
 * What `ensure_primary.ts` does with a decision: the status patches that move the primary
 * (`primary_writes.ts`), the choice of the most advanced standby, the pod deletions of a
 * rolling update and of a former primary that will not stop, and an Event for each.
 *
 * @module
 */
import { ApiError, CORE, objectPath } from "../../runtime/client/mod.ts";
import { type Database, primaryPod } from "../api/mod.ts";
import type { Pod } from "../instances/mod.ts";
import type { InstanceView, PrimaryDecision } from "./failover.ts";
import type { InstanceReport } from "./instance_probe.ts";
import { nextRollingStep } from "./rolling_update.ts";
import {
  forgetRequest,
  patchPrimary,
  type PrimaryDeps,
  type PrimaryOutcome,
  TARGET_PRIMARY_ANNOTATION,
} from "./primary_writes.ts";

/** The next step of a rolling update of the pod template, if one is under way. */
export async function roll(
  deps: PrimaryDeps,
  db: Database,
  views: InstanceView[],
  pods: Map<string, Pod>,
  ask: (name: string) => Promise<InstanceReport | undefined>,
): Promise<PrimaryOutcome> {
  const sts = deps.statefulSets.store.get(`${db.metadata.namespace}/${db.metadata.name}`);
  const step = nextRollingStep(
    views.map((v) => ({
      name: v.name,
      ready: v.ready,
      revision: pods.get(v.name)?.metadata.labels?.["controller-revision-hash"],
    })),
    sts?.status?.updateRevision,
    primaryPod(db),
  );
  if (step.kind === "none") return { db };
  if (step.kind === "switchover") {
    return await act(
      deps,
      db,
      {
        kind: "switchover",
        reason: "RollingUpdate",
        message:
          `Every standby runs the new pod template: switching the primary ${primaryPod(db)} ` +
          "over before it restarts",
      },
      views,
      ask,
    );
  }
  await deletePod(deps, db, step.pod);
  deps.events.record(
    db,
    "Normal",
    "RollingUpdate",
    "Update",
    `Restarting ${step.pod} with the new pod template`,
  );
  return { db, requeueAfterMs: 2_000 };
}

export async function act(
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
    case "stop":
      // A short grace: the server is stopped (SIGKILL at worst, which loses no committed
      // transaction), and the pod is gone, before the target is promoted.
      await deletePod(deps, db, decision.pod, STOP_GRACE_SECONDS);
      deps.events.record(
        db,
        "Warning",
        "StoppingFormerPrimary",
        "Fence",
        `Deleting ${decision.pod}, which lost the primary role: ${decision.reason}`,
      );
      return { db, requeueAfterMs: 500 };
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
        const message = `${decision.message}, and no standby answers to take over`;
        deps.events.record(
          db,
          "Warning",
          "NoStandbyToPromote",
          decision.kind === "failover" ? "Failover" : "Switchover",
          message,
        );
        return {
          db,
          requeueAfterMs: 2_000,
          ...(decision.kind === "failover"
            ? { problem: { reason: "NoStandbyToPromote", message } }
            : {}),
        };
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
    case "abandon": {
      const next = await patchPrimary(deps, db, { targetPrimary: null });
      deps.targetsSince.delete(key);
      deps.events.record(
        db,
        "Warning",
        "TargetLost",
        "Failover",
        `${decision.target} can no longer take over: choosing again`,
      );
      return { db: next, requeueAfterMs: 500 };
    }
    case "complete": {
      let next = await patchPrimary(deps, db, { targetPrimary: null });
      // The request is carried out: removed, so that it cannot pull the primary back later.
      if (db.metadata.annotations?.[TARGET_PRIMARY_ANNOTATION] === decision.target) {
        next = await forgetRequest(deps, next);
      }
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

/** How long a former primary that will not stop by itself gets to stop (seconds). */
export const STOP_GRACE_SECONDS = 2;

async function deletePod(deps: PrimaryDeps, db: Database, pod: string, grace?: number) {
  await deps.client.request(
    "DELETE",
    objectPath(CORE.pods, db.metadata.namespace, pod),
    {
      ...(grace !== undefined ? { query: { gracePeriodSeconds: grace } } : {}),
      signal: deps.signal,
    },
  ).catch((error) => {
    if (!(error instanceof ApiError && error.code === 404)) throw error;
  });
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
