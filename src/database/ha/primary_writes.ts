/**
 * The writes of the HA step on the Database itself: its primary's status fields (guarded by the
 * Database's resourceVersion, so two reconciles can never both promote), the synchronous
 * standbys it reports, and the removal of a switchover request once carried out; and what the
 * step reads and writes through.
 *
 * @module
 */
import { CORE, type KubeClient, objectPath } from "../../runtime/client/mod.ts";
import type { Informer } from "../../runtime/cache/mod.ts";
import type { EventRecorder } from "../../runtime/controller/mod.ts";
import { type Database, DATABASE_RESOURCE, FIELD_MANAGER, secretName } from "../api/mod.ts";
import { passwordOf, type Secret } from "../credentials/mod.ts";
import type { Pod, PodProblem, StatefulSet } from "../instances/mod.ts";
import type { InstanceReport } from "./instance_probe.ts";

/** The annotation that asks for a switchover to the pod it names. */
export const TARGET_PRIMARY_ANNOTATION = "database.example.com/target-primary";

/** What the step reads and writes through. */
export interface PrimaryDeps {
  client: KubeClient;
  pods: Informer<Pod>;
  statefulSets: Informer<StatefulSet>;
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
  /** The primary is lost and nobody can take over: for the Ready condition. */
  problem?: PodProblem;
}
/**
 * Removes the switchover annotation (`database.example.com/target-primary`) once carried out;
 * refused (409) if the Database changed meanwhile, so a new request is never lost.
 */
export async function forgetRequest(deps: PrimaryDeps, db: Database): Promise<Database> {
  const updated = await deps.client.request<Database>(
    "PATCH",
    objectPath(DATABASE_RESOURCE, db.metadata.namespace, db.metadata.name!),
    {
      body: {
        metadata: {
          resourceVersion: db.metadata.resourceVersion,
          annotations: { [TARGET_PRIMARY_ANNOTATION]: null },
        },
      },
      contentType: "application/merge-patch+json",
      query: { fieldManager: FIELD_MANAGER },
      signal: deps.signal,
    },
  );
  return { ...db, metadata: updated.metadata };
}

/** `status.synchronousStandbys` from what the primary answered, written when it changed. */
export async function reportSynchronous(
  deps: PrimaryDeps,
  db: Database,
  wanted: number,
  report: InstanceReport | undefined,
): Promise<Database> {
  if (!report || report.inRecovery) return db;
  const now = report.synchronous;
  const was = db.status?.synchronousStandbys ?? [];
  if (now.join(",") === was.join(",")) return db;
  deps.events.record(
    db,
    now.length >= wanted ? "Normal" : "Warning",
    "SynchronousStandbys",
    "Replication",
    now.length >= wanted
      ? (now.length > 0 ? `Commits wait for ${wanted} of ${now.join(", ")}` : "Asynchronous")
      : `${now.length} of ${wanted} synchronous standbys stream: commits wait for more`,
  );
  return await patchPrimary(deps, db, { synchronousStandbys: now.length > 0 ? now : null });
}

/** A status patch of the primary's fields, refused (409) if the Database changed meanwhile. */
export async function patchPrimary(
  deps: PrimaryDeps,
  db: Database,
  fields: {
    currentPrimary?: string;
    targetPrimary?: string | null;
    synchronousStandbys?: string[] | null;
  },
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

/**
 * The Database owner's username and password, read from its Secret (the cache keeps only a
 * digest of it): what the operator asks instances with.
 */
export async function ownerCredentials(
  deps: { client: Pick<KubeClient, "request">; signal?: AbortSignal | undefined },
  db: Database,
): Promise<{ user: string; password: string; ca?: string }> {
  const secret = await deps.client.request<Secret>(
    "GET",
    objectPath(CORE.secrets, db.metadata.namespace, secretName(db)),
    { signal: deps.signal },
  );
  const ca = passwordOf(secret, "ca.crt");
  return {
    user: passwordOf(secret, "username") ?? "",
    password: passwordOf(secret) ?? "",
    // With TLS the instances are asked over it, each verified by its pod's name.
    ...(ca ? { ca } : {}),
  };
}
