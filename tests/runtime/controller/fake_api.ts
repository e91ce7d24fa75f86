/**
 * An API server in memory, seen through the two calls informers and reconcilers make
 * (`request`, `watch`), for manager and controller tests on virtual time: lists answer from
 * {@linkcode FakeApi.objects} (or fail), watches stay open until aborted and carry what
 * {@linkcode FakeApi.emit} sends, and every other request goes to {@linkcode FakeApi.handle}.
 *
 * @module
 */
import {
  ApiError,
  collectionPath,
  type KubeClient,
  type KubeObject,
  type RawWatchEvent,
  type RequestInit,
  type ResourceType,
} from "../../../src/runtime/client/mod.ts";

/** A request the fake received. */
export interface Received {
  method: string;
  path: string;
  init: RequestInit;
}

/** Answers one request that is not a list; throw for an error answer. */
export type Handler = (request: Received) => Promise<unknown>;

/** See the module documentation. */
export class FakeApi {
  /** Objects by all-namespaces collection path (the informers' lists). */
  readonly objects = new Map<string, KubeObject[]>();
  /** All-namespaces collection paths whose lists fail with this error. */
  readonly failing = new Map<string, Error>();
  /** Every request other than a list, in order. */
  readonly received: Received[] = [];
  /** Answers requests other than lists. @default 404 for GETs, the body echoed for writes */
  handle: Handler = ({ method, init }) =>
    method === "GET"
      ? Promise.reject(new ApiError(404, "NotFound", "not found"))
      : Promise.resolve(init.body);
  readonly #watches = new Map<string, Set<(event: RawWatchEvent) => void>>();
  #version = 1;

  /** Adds `objects` to the list of `type` (with none: makes the list exist, empty). */
  add(type: ResourceType, ...objects: KubeObject[]): void {
    const path = collectionPath(type);
    if (!this.objects.has(path)) this.objects.set(path, []);
    for (const object of objects) {
      object.metadata.resourceVersion ??= String(++this.#version);
      this.objects.set(path, [...(this.objects.get(path) ?? []), object]);
    }
  }

  /** Sends `event` to every open watch of `type` (all-namespaces or the object's namespace). */
  emit(type: ResourceType, event: RawWatchEvent["type"], object: KubeObject): void {
    object.metadata.resourceVersion = String(++this.#version);
    const raw = {
      type: event,
      object: structuredClone(object) as unknown as Record<string, unknown>,
    };
    const paths = [collectionPath(type), collectionPath(type, object.metadata.namespace)];
    for (const path of new Set(paths)) {
      for (const send of this.#watches.get(path) ?? []) send(raw);
    }
  }

  /** The fake as the client its users expect. */
  get client(): KubeClient {
    return {
      request: (method: string, path: string, init: RequestInit = {}) =>
        this.#request(method, path, init),
      watch: (path: string, _query: unknown, signal: AbortSignal) => this.#watch(path, signal),
    } as unknown as KubeClient;
  }

  #request(method: string, path: string, init: RequestInit): Promise<unknown> {
    // A namespaced list reads the all-namespaces list, filtered.
    const scoped = path.match(/^(\/apis?\/.+)\/namespaces\/([^/]+)\/([^/]+)$/);
    const all = scoped ? `${scoped[1]}/${scoped[3]}` : path;
    if (method === "GET" && (this.objects.has(all) || this.failing.has(all))) {
      const error = this.failing.get(all);
      if (error) return Promise.reject(error);
      const items = structuredClone(this.objects.get(all) ?? [])
        .filter((o) => !scoped || o.metadata.namespace === scoped[2]);
      return Promise.resolve({ metadata: { resourceVersion: String(this.#version) }, items });
    }
    const request = { method, path, init };
    this.received.push(request);
    return this.handle(request);
  }

  async *#watch(path: string, signal: AbortSignal): AsyncGenerator<RawWatchEvent> {
    const pending: RawWatchEvent[] = [];
    let wake = () => {};
    const send = (event: RawWatchEvent) => {
      pending.push(event);
      wake();
    };
    const onAbort = () => wake();
    let watchers = this.#watches.get(path);
    if (!watchers) this.#watches.set(path, watchers = new Set());
    watchers.add(send);
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        const event = pending.shift();
        if (event) yield event;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      watchers.delete(send);
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/** A request that never answers: it rejects with the reason when its signal aborts. */
export function hangUntilAborted({ init }: Received): Promise<never> {
  return new Promise((_, reject) => {
    const signal = init.signal;
    if (!signal) return; // Never settles: exactly the hang a forced stop cannot end.
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}
