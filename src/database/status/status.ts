/**
 * The Database's reported state: phase, readiness, endpoint and the conditions `Ready`,
 * `Progressing` and `Degraded`, computed from the cached StatefulSet and what its pods report.
 *
 * @module
 */
import { isSubset } from "../../runtime/client/mod.ts";
import {
  type Condition,
  type Database,
  type DatabasePhase,
  type DatabaseStatus,
  POSTGRES_PORT,
  primaryPod,
  secretName,
  serviceHost,
} from "../api/mod.ts";
import type { InstancesOutcome, StatefulSet } from "../instances/mod.ts";

/** What the reconciler learned, for the status. */
export type Observation =
  | {
    kind: "invalid";
    /** `InvalidSpec` (refused by the schema mirror) or `Rejected` (refused by the server). */
    reason: string;
    message: string;
  }
  | { kind: "error"; reason: string; message: string }
  | ({ kind: "deployed" } & InstancesOutcome);

/** Whether the StatefulSet has caught up with its spec and all replicas are ready. */
export function statefulSetReady(sts: StatefulSet | undefined, replicas: number): boolean {
  if (!sts?.status || sts.metadata.generation === undefined) return false;
  return (sts.status.observedGeneration ?? 0) >= sts.metadata.generation &&
    (sts.status.readyReplicas ?? 0) >= replicas &&
    (sts.status.updatedReplicas ?? 0) >= replicas;
}

/** Conditions other steps own (`backup/`), carried unchanged by this one. */
const CARRIED_CONDITIONS = new Set(["ContinuousArchiving"]);

/**
 * The status a Database should have after this observation; `status.backup` and the
 * ContinuousArchiving condition are the archive step's, carried as they are.
 */
export function desiredStatus(db: Database, seen: Observation, now: Date): DatabaseStatus {
  const status = instancesStatus(db, seen, now);
  const carried = (db.status?.conditions ?? []).filter((c) => CARRIED_CONDITIONS.has(c.type));
  return {
    ...status,
    ...(db.status?.backup ? { backup: db.status.backup } : {}),
    conditions: [...status.conditions ?? [], ...carried],
  };
}

function instancesStatus(db: Database, seen: Observation, now: Date): DatabaseStatus {
  const generation = db.metadata.generation;
  const old = db.status?.conditions ?? [];
  const condition = (
    type: string,
    status: Condition["status"],
    reason: string,
    message: string,
  ): Condition => {
    const previous = old.find((c) => c.type === type);
    const unchanged = previous?.status === status;
    return {
      type,
      status,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      // Only a change of status moves the transition time (metav1.Condition semantics).
      lastTransitionTime: unchanged
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      reason,
      message,
    };
  };
  const base = {
    // The primary's fields are the HA step's (ha/ensure_primary.ts): carried, never changed here.
    currentPrimary: primaryPod(db),
    ...(db.status?.targetPrimary ? { targetPrimary: db.status.targetPrimary } : {}),
    ...(db.status?.synchronousStandbys
      ? { synchronousStandbys: db.status.synchronousStandbys }
      : {}),
    endpoint: `${serviceHost(db)}:${POSTGRES_PORT}`,
    secretName: secretName(db),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  if (seen.kind === "invalid") {
    return {
      ...base,
      phase: "Failed",
      ready: false,
      readyReplicas: db.status?.readyReplicas ?? 0,
      conditions: [
        condition("Ready", "False", seen.reason, seen.message),
        condition("Progressing", "False", seen.reason, "Waiting for a valid spec"),
        condition("Degraded", "True", seen.reason, seen.message),
      ],
    };
  }
  if (seen.kind === "error") {
    return {
      ...base,
      phase: db.status?.phase === "Ready" ? "Ready" : "Creating",
      ready: db.status?.ready ?? false,
      readyReplicas: db.status?.readyReplicas ?? 0,
      conditions: [
        old.find((c) => c.type === "Ready") ??
          condition("Ready", "False", "Reconciling", "Waiting for the first reconcile"),
        condition("Progressing", "True", "Retrying", seen.message),
        condition("Degraded", "True", seen.reason, seen.message),
      ],
    };
  }
  const readyReplicas = seen.statefulSet?.status?.readyReplicas ?? 0;
  const problem = seen.primaryProblem ?? seen.podProblem;
  // Clients reach the database through the Service and the Secret: not Ready while either
  // name is someone else's, nor while a pod reports a problem.
  const ready = !seen.conflict && !problem && statefulSetReady(seen.statefulSet, seen.replicas);
  // A refused restore (spec.restore is immutable) cannot come right by itself.
  const phase: DatabasePhase = ready
    ? "Ready"
    : problem?.reason === "RestoreRefused"
    ? "Failed"
    : "Creating";
  const progress = `${readyReplicas}/${seen.replicas} replicas ready`;
  const standbys = seen.replicas - 1;
  const streaming = seen.streamingReplicas;
  return {
    ...base,
    phase,
    ready,
    readyReplicas,
    ...(streaming !== undefined ? { streamingReplicas: streaming } : {}),
    conditions: [
      ready
        ? condition("Ready", "True", "DatabaseReady", `All ${seen.replicas} replicas are ready`)
        : problem
        ? condition("Ready", "False", problem.reason, problem.message)
        : condition("Ready", "False", "Creating", progress),
      ready
        ? condition("Progressing", "False", "Reconciled", "The database matches its spec")
        : condition("Progressing", "True", "RollingOut", progress),
      seen.conflict
        ? condition("Degraded", "True", "ResourceExists", seen.conflict)
        : problem
        ? condition("Degraded", "True", problem.reason, problem.message)
        : seen.storageProblem
        ? condition("Degraded", "True", "StorageResizeUnsupported", seen.storageProblem)
        : condition("Degraded", "False", "AsExpected", "No problems found"),
      ...(streaming !== undefined
        ? [
          streaming >= standbys
            ? condition("Replicating", "True", "Streaming", `All ${standbys} standbys stream`)
            : condition(
              "Replicating",
              "False",
              "StandbysNotStreaming",
              `${streaming}/${standbys} standbys stream from the primary`,
            ),
        ]
        : []),
    ],
  };
}

/**
 * True when `next` would only say that creation has begun (phase Creating, no replica ready,
 * nothing wrong) about a Database whose status the operator has never written: the CRD's
 * default phase Pending already says as much, so the write is saved. The first news is
 * written: Ready, a problem, or a replica becoming ready.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const fresh = { metadata: { name: "db", generation: 1 }, spec: {}, status: { phase: "Pending" } };
 * const seen = { kind: "deployed", replicas: 1 } as const;
 * assert.equal(nothingToReport(fresh as never, desiredStatus(fresh as never, seen, new Date())), true);
 * ```
 */
export function nothingToReport(db: Database, next: DatabaseStatus): boolean {
  const degraded = next.conditions?.find((c) => c.type === "Degraded");
  return db.status?.observedGeneration === undefined && next.phase === "Creating" &&
    (next.readyReplicas ?? 0) === 0 && degraded?.status === "False";
}

/** True when writing `next` would change what the server holds. */
export function statusChanged(db: Database, next: DatabaseStatus): boolean {
  const current = db.status ?? {};
  return !(isSubset(next, current) && isSubset(current, next));
}
