/**
 * The PostgreSQL instances: the StatefulSet and its pod template, volume growth, each pod's role
 * label, what the pods report about their health, and the step that keeps them.
 *
 * Owns: the pods and their volumes. May import: `api/`, `objects/`, `credentials/` (the Secret's
 * keys and the init script the pods run), `src/runtime/`.
 *
 * @module
 */
export * from "./statefulset.ts";
export * from "./statefulset_projection.ts";
export * from "./storage.ts";
export * from "./pod_health.ts";
export * from "./pod_roles.ts";
export * from "./instance_manager.ts";
export * from "./ensure_statefulset.ts";
