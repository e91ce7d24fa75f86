/**
 * How the operator writes what a Database owns: ownership checks (never adopt or overwrite
 * another's object), create-only POSTs and server-side applies sent only on a difference, the
 * reconcile's record of what it created and updated, and the shapes the caches keep.
 *
 * Owns: the write discipline shared by every step. May import: `api/` and `src/runtime/`.
 *
 * @module
 */
export * from "./ownership.ts";
export * from "./object_writer.ts";
export * from "./changes.ts";
export * from "./settle.ts";
export * from "./cache_shapes.ts";
