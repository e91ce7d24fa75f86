/**
 * The informer cache: a watcher (list then watch) feeding a store with indexes, projections that
 * keep only what controllers read, and the cache's metrics.
 *
 * @module
 */
export * from "./informer.ts";
export * from "./informer_metrics.ts";
export * from "./intern.ts";
export * from "./prune.ts";
export * from "./store.ts";
