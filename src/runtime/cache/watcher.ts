/**
 * List-then-watch of one resource type as an async stream of events (kube-rs's `watcher`).
 *
 * State machine: *listing* (paged list; emits `init`, `initApply`…, `initDone`) → *watching*
 * from the list's resourceVersion with bookmarks (emits `apply`, `delete`, `bookmark`). From
 * watching it goes back to watching from the last seen resourceVersion when the server ends
 * the stream, the connection breaks, or the stream stays silent past `idleTimeoutMs` (a hung
 * connection); and back to listing when the server answers 410 Gone/Expired. Failures are
 * yielded as `error` events and never slept on here: wrap the stream in `withBackoff`.
 *
 * @module
 */
import {
  ApiError,
  apiVersionOf,
  collectionPath,
  type KubeClient,
  type KubeObject,
  type Query,
  type ResourceType,
  type Status,
} from "../client/mod.ts";

/** One step of the stream. After `init`, a consumer collects `initApply` until `initDone`. */
export type WatcherEvent<T> =
  | { type: "init" }
  | { type: "initApply"; object: T }
  | { type: "initDone"; resourceVersion: string }
  | { type: "apply"; object: T }
  | { type: "delete"; object: T }
  | { type: "bookmark"; resourceVersion: string }
  | { type: "error"; error: Error };

/** What to watch, and how. */
export interface WatcherOptions {
  /** Watch one namespace only. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Objects per list page. @default 500 */
  pageSize?: number;
  /** A watch that delivers nothing, not even a bookmark, for this long is restarted. @default 120_000 */
  idleTimeoutMs?: number;
}

/** The watch delivered nothing for too long; it is reopened from the last resourceVersion. */
export class WatchStalledError extends Error {
  override name = "WatchStalledError";
}

interface List<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

/** Streams the state of `type` until `signal` aborts. */
export async function* watcher<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  signal: AbortSignal,
  options: WatcherOptions = {},
): AsyncGenerator<WatcherEvent<T>> {
  const path = collectionPath(type, options.namespace);
  const apiVersion = apiVersionOf(type);
  const selectors: Query = {
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
  };
  const complete = (object: T) => {
    // Lists leave out apiVersion and kind on items; keep objects self-describing.
    object.apiVersion ??= apiVersion;
    object.kind ??= type.kind;
    return object;
  };
  let resourceVersion: string | undefined;
  while (!signal.aborted) {
    try {
      if (resourceVersion === undefined) {
        yield { type: "init" };
        let next: string | undefined;
        do {
          const page: List<T> = await client.request("GET", path, {
            query: { ...selectors, limit: options.pageSize ?? 500, continue: next },
            signal,
          });
          for (const object of page.items) yield { type: "initApply", object: complete(object) };
          next = page.metadata.continue || undefined;
          resourceVersion = page.metadata.resourceVersion;
        } while (next);
        yield { type: "initDone", resourceVersion };
      }
      const idle = new AbortController();
      const idleMs = options.idleTimeoutMs ?? 120_000;
      const stalled = () =>
        new WatchStalledError(`Watch of ${type.plural} silent for ${idleMs} ms`);
      let timer = setTimeout(() => idle.abort(stalled()), idleMs);
      try {
        const events = client.watch(path, {
          ...selectors,
          resourceVersion,
          allowWatchBookmarks: true,
          // Spread reconnects out, as client-go's reflector does (5 to 10 minutes).
          timeoutSeconds: 300 + Math.floor(Math.random() * 300),
        }, AbortSignal.any([signal, idle.signal]));
        for await (const event of events) {
          clearTimeout(timer);
          timer = setTimeout(() => idle.abort(stalled()), idleMs);
          if (event.type === "ERROR") {
            const status = event.object as Status;
            throw new ApiError(
              status.code ?? 500,
              status.reason ?? "WatchError",
              status.message ?? "watch error",
              status,
            );
          }
          const object = complete(event.object as unknown as T);
          resourceVersion = object.metadata.resourceVersion ?? resourceVersion;
          if (event.type === "BOOKMARK") yield { type: "bookmark", resourceVersion };
          else if (event.type === "DELETED") yield { type: "delete", object };
          else yield { type: "apply", object };
        }
      } finally {
        clearTimeout(timer);
      }
      // The stream ended quietly: either the server closed it (reopen) or it stalled.
      if (idle.signal.aborted && !signal.aborted) throw idle.signal.reason;
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.code === 410) resourceVersion = undefined;
      yield { type: "error", error: error as Error };
    }
  }
}
