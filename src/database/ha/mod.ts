/**
 * High availability, the operator's side: who the primary is (a fact in status), failover when
 * it is lost, switchover when asked or when its node drains, and what the instances need for
 * it (their ServiceAccount and Role, the primary's PodDisruptionBudget). The instance side, the
 * process in each pod that follows these decisions, is `instances/instance_manager.sh`.
 *
 * Owns: `status.currentPrimary` and `status.targetPrimary`. May import: `api/`, `objects/`,
 * `credentials/` (reading the Secret), `instances/`, `src/runtime/`.
 *
 * @module
 */
export * from "./failover.ts";
export * from "./node_lease.ts";
export * from "./instance_probe.ts";
export * from "./instance_access.ts";
export * from "./disruption_budget.ts";
export * from "./ensure_ha_objects.ts";
export * from "./rolling_update.ts";
export * from "./ensure_primary.ts";
export * from "./lone_instance.ts";
export { ownerCredentials } from "./primary_writes.ts";
