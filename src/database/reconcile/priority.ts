/**
 * Which Database the controller takes first when its queue is long (many Databases created at
 * once, or a restart over many). Two rules, both only ever an order, never a delay:
 *
 * - A StatefulSet whose readiness flipped goes first: the reconcile it brings reports Ready (or
 *   no longer Ready) and costs one status write, while waiting behind a flood of first
 *   reconciles of later Databases would hold that news back for all of them. (controller-runtime's
 *   priority queue has the same aim: real changes overtake the flood.)
 * - Among equals, `production` Databases (`spec.environment`, the field the course indexes)
 *   go before the rest.
 *
 * @module
 */
import type { InformerEvent } from "../../runtime/cache/mod.ts";
import type { KubeObject, ResourceType } from "../../runtime/client/mod.ts";
import { CORE } from "../../runtime/client/mod.ts";
import type { StatefulSet } from "../instances/mod.ts";
import { statefulSetReady } from "../status/mod.ts";
import type { Database } from "../api/mod.ts";

/** Added for an event that flips a StatefulSet's readiness: above any environment. */
export const READINESS_CHANGE_PRIORITY = 10;
/** Added for a `production` Database's keys. */
export const PRODUCTION_PRIORITY = 1;

/**
 * The `spec.environment` field index: the Database's environment, if it names one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(environmentOf({ metadata: {}, spec: { environment: "production" } } as never), [
 *   "production",
 * ]);
 * assert.deepEqual(environmentOf({ metadata: {}, spec: {} } as never), []);
 * ```
 */
export function environmentOf(db: Database): string[] {
  return db.spec?.environment ? [db.spec.environment] : [];
}

/**
 * The controller's `priority` hook for Databases.
 *
 * @param isProduction Whether the Database with this key is a `production` one: a lookup in the
 *   cache's `spec.environment` index, constant time per event.
 * @returns Priority to add to an event's key (see the module documentation).
 */
export function databasePriority(
  isProduction: (key: string) => boolean,
): (key: string, event: InformerEvent<KubeObject>, source: ResourceType) => number {
  return (key, event, source) => {
    const production = isProduction(key) ? PRODUCTION_PRIORITY : 0;
    return production + (flipsReadiness(event, source) ? READINESS_CHANGE_PRIORITY : 0);
  };
}

/** True for a StatefulSet update after which it is ready and was not, or the other way round. */
function flipsReadiness(event: InformerEvent<KubeObject>, source: ResourceType): boolean {
  const statefulSet = source.kind === CORE.statefulSets.kind &&
    source.group === CORE.statefulSets.group;
  if (!statefulSet || event.type !== "updated" || !event.old) return false;
  const ready = (sts: StatefulSet) => statefulSetReady(sts, sts.spec?.replicas ?? 1);
  return ready(event.object as StatefulSet) !== ready(event.old as StatefulSet);
}
