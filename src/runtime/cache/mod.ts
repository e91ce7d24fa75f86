/**
 * The informer cache: a watcher (list then watch) feeding a store with indexes through the
 * reflector's pure core, projections that keep only what controllers read, and the cache's
 * metrics. Readers get a `ReadonlyStore`; the API client is seen through `ListWatchClient`.
 *
 * @module
 */
export * from "./created_objects.ts";
export * from "./informer.ts";
export * from "./informer_event.ts";
export * from "./informer_metrics.ts";
export * from "./intern.ts";
export * from "./prune.ts";
export * from "./reflector.ts";
export * from "./store.ts";
export {
  type ListWatchClient,
  ShortWatchError,
  watcher,
  type WatcherEvent,
  type WatcherOptions,
  WatchStalledError,
} from "./watcher.ts";
