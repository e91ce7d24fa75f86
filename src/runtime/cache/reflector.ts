/**
 * The pure core of an informer: how one watcher event changes the cache, and which changes
 * subscribers hear about (kube-rs's reflector `Writer::apply_watcher_event`). No I/O, no time:
 * tests feed it events directly.
 *
 * @module
 */
import { type KubeObject, objectKey } from "../client/mod.ts";
import type { InformerEvent } from "./informer_event.ts";
import { Store } from "./store.ts";
import type { WatcherEvent } from "./watcher.ts";

/** The write side of one informer's cache: the store, and the list being collected. */
export interface StoreWriter<T extends KubeObject> {
  readonly store: Store<T>;
  /** Objects of the list in progress, from `init` until `initDone`. */
  buffer: T[];
  /** Whether a complete list has been applied; later relists are no longer `initial`. */
  synced: boolean;
}

/** A writer over `store`, before any list. */
export function storeWriter<T extends KubeObject>(
  store: Store<T> = new Store<T>(),
): StoreWriter<T> {
  return { store, buffer: [], synced: false };
}

/**
 * Applies `event` to `writer` and returns the changes to tell subscribers, in order.
 *
 * - `init` starts a new list (dropping one in progress); `initApply` collects; `initDone` swaps
 *   the store's content for the list at once and reports every difference, deletions that
 *   happened while the watch was down included.
 * - `apply` of the cached resourceVersion changes nothing and reports nothing.
 * - `delete` reports the cached object (the last state the controller saw), else the event's.
 */
export function applyWatcherEvent<T extends KubeObject>(
  writer: StoreWriter<T>,
  event: WatcherEvent<T>,
): InformerEvent<T>[] {
  const { store } = writer;
  switch (event.type) {
    case "init":
      writer.buffer = [];
      return [];
    case "initApply":
      writer.buffer.push(event.object);
      return [];
    case "initDone": {
      const initial = !writer.synced;
      const diff = store.replace(writer.buffer);
      writer.buffer = [];
      writer.synced = true;
      const changes: InformerEvent<T>[] = [];
      for (const object of diff.added) changes.push({ type: "added", object, initial });
      for (const { old, object } of diff.updated) {
        changes.push({ type: "updated", object, old, initial });
      }
      for (const object of diff.deleted) changes.push({ type: "deleted", object, initial });
      return changes;
    }
    case "apply": {
      const object = event.object;
      const cached = store.get(objectKey(object));
      if (cached && cached.metadata.resourceVersion === object.metadata.resourceVersion) return [];
      const old = store.upsert(object);
      return [
        old
          ? { type: "updated", object, old, initial: false }
          : { type: "added", object, initial: false },
      ];
    }
    case "delete": {
      const old = store.delete(objectKey(event.object));
      return [{ type: "deleted", object: old ?? event.object, initial: false }];
    }
    case "bookmark":
    case "error":
      return [];
  }
}
