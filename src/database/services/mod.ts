/**
 * The Services in front of a Database: read-write `<name>`, read-only `<name>-ro` and the
 * headless `<name>-pods`, and the step that keeps them.
 *
 * Owns: how clients and standbys reach the instances. May import: `api/`, `objects/`,
 * `src/runtime/`.
 *
 * @module
 */
export * from "./service.ts";
export * from "./service_projection.ts";
export * from "./ensure_services.ts";
