/**
 * The Database API: names and types of the `database.example.com/v1` custom resource, the zod
 * mirror of its CRD schema and the schema's constants, the names and labels of what a Database
 * is made of, a Kubernetes quantity parser, and what the cache keeps of a Database.
 *
 * Owns: what a user writes and reads (`spec`, `status`) and the names every other room derives
 * from it. May import: `src/runtime/` only; every database room may import it.
 *
 * @module
 */
export * from "./types.ts";
export * from "./backup_types.ts";
export * from "./backup_spec.ts";
export * from "./database_name.ts";
export * from "./spec.ts";
export * from "./spec_rules.ts";
export * from "./quantity.ts";
export * from "./names.ts";
export * from "./labels.ts";
export * from "./database_projection.ts";
export * from "./pod_defaults.ts";
