/**
 * The Database controller: the reconciler (the steps of the other rooms in order, and what
 * their outcome means), its wiring into a manager (informers, field index, predicate), the
 * queue's priorities and the course's `database_*` metrics.
 *
 * Owns: the order of the steps and outcome handling. May import every database room.
 *
 * @module
 */
export * from "./reconciler.ts";
export * from "./controller.ts";
export * from "./finalizer.ts";
export * from "./priority.ts";
export * from "./metrics.ts";
export * from "./crd_installed.ts";
