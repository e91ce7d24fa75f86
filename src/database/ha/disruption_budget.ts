/**
 * The PodDisruptionBudget `<name>` of a Database with standbys: the primary may not be
 * evicted (a drain, a cluster autoscaler). A drain of its node therefore waits until the
 * operator has switched the primary to another node (`failover.ts` sees the node cordoned);
 * the former primary is then a standby, outside the budget's selector, and is evicted.
 *
 * @module
 */
import type { KubeObject, ResourceType } from "../../runtime/client/mod.ts";
import { type Database, ownedMetadata, ROLE_LABEL, selectorLabels } from "../api/mod.ts";

/** policy/v1 PodDisruptionBudgets. */
export const PDB_TYPE = {
  group: "policy",
  version: "v1",
  kind: "PodDisruptionBudget",
  plural: "poddisruptionbudgets",
  namespaced: true,
} as const satisfies ResourceType;

/** The budget that keeps the primary of `db` from eviction. */
export function desiredDisruptionBudget(db: Database): KubeObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: ownedMetadata(db, db.metadata.name!),
    spec: {
      maxUnavailable: 0,
      selector: { matchLabels: { ...selectorLabels(db), [ROLE_LABEL]: "primary" } },
    },
  } as KubeObject;
}
