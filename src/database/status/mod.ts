/**
 * The Database's reported state: phase, conditions, endpoint and readiness computed from what
 * the steps observed, and the one status write that reports them.
 *
 * Owns: `status`. May import: `api/`, `instances/` (what it observed), `src/runtime/`.
 *
 * @module
 */
export * from "./status.ts";
export * from "./write_status.ts";
