/**
 * A narrow stand-in for the API server as the watcher and informer see it
 * (`ListWatchClient`): paged lists with continue tokens, watches the test feeds, and fault
 * injection on any call.
 *
 * @module
 */
import { ApiError, type Query, type RawWatchEvent } from "../../../src/runtime/client/mod.ts";
import type { ListWatchClient } from "../../../src/runtime/cache/watcher.ts";

/** A ConfigMap-like object. */
export interface Item {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion: string };
  data?: Record<string, string>;
}

/** One list page request. */
export interface ListCall {
  kind: "list";
  continue: string | undefined;
  limit: number | undefined;
}

/** One watch request, and the stream the test feeds. */
export interface WatchCall {
  kind: "watch";
  resourceVersion: string;
  stream: FakeWatch;
}

export type Call = ListCall | WatchCall;

/** A watch stream fed by the test. */
export class FakeWatch {
  readonly #queue: (RawWatchEvent | { end: true } | { error: Error })[] = [];
  #wake?: () => void;

  /** Delivers one event. */
  send(type: RawWatchEvent["type"], object: object): void {
    this.#push({ type, object: object as Record<string, unknown> });
  }

  /** Ends the stream as a server does at `timeoutSeconds`. */
  end(): void {
    this.#push({ end: true });
  }

  /** Breaks the stream (a connection reset). */
  fail(error: Error): void {
    this.#push({ error });
  }

  #push(item: RawWatchEvent | { end: true } | { error: Error }): void {
    this.#queue.push(item);
    this.#wake?.();
  }

  async *events(signal: AbortSignal): AsyncGenerator<RawWatchEvent> {
    const aborted = () => this.#wake?.();
    signal.addEventListener("abort", aborted);
    try {
      while (!signal.aborted) {
        const item = this.#queue.shift();
        if (!item) {
          await new Promise<void>((resolve) => this.#wake = resolve);
          continue;
        }
        if ("end" in item) return;
        if ("error" in item) throw item.error;
        yield item;
      }
    } finally {
      signal.removeEventListener("abort", aborted);
    }
  }
}

/** The objects of one namespace and the calls made to read them. */
export class FakeListWatch implements ListWatchClient {
  readonly namespace = "ns";
  readonly calls: Call[] = [];
  /** Decides whether call number `index` (from 0) fails, and with what. */
  fault: (call: Call, index: number) => Error | undefined = () => undefined;
  readonly #objects = new Map<string, Item>();
  #version = 100;
  /** Frozen lists that continue tokens point into; dropped by `expireContinueTokens`. */
  readonly #snapshots = new Map<string, { version: string; items: Item[] }>();
  #snapshotId = 0;
  #waiters: (() => void)[] = [];

  /** The objects as a fresh list would return them: name → resourceVersion. */
  state(): Map<string, string> {
    return new Map(
      [...this.#objects.values()].map((o) => [o.metadata.name, o.metadata.resourceVersion]),
    );
  }

  /** Creates or updates `name`; a later list sees it, open watches do not (the test sends). */
  put(name: string, data: Record<string, string> = {}): Item {
    const item = {
      metadata: { name, namespace: this.namespace, resourceVersion: `${++this.#version}` },
      data,
    };
    this.#objects.set(name, item);
    return structuredClone(item);
  }

  /** Deletes `name`; returns its last state. */
  remove(name: string): Item {
    const item = this.#objects.get(name)!;
    this.#objects.delete(name);
    this.#version++;
    return structuredClone(item);
  }

  /** Makes every continue token handed out so far answer 410 Expired. */
  expireContinueTokens(): void {
    this.#snapshots.clear();
  }

  /** Resolves with call number `n` (from 1) once it has been made. */
  async call(n: number): Promise<Call> {
    while (this.calls.length < n) await new Promise<void>((r) => this.#waiters.push(r));
    return this.calls[n - 1]!;
  }

  /** Resolves with the next watch from call number `from` (from 1) on. */
  async watchFrom(from: number): Promise<WatchCall> {
    for (let n = from;; n++) {
      const call = await this.call(n);
      if (call.kind === "watch") return call;
    }
  }

  request<T>(_method: "GET", _path: string, init: { query?: Query }): Promise<T> {
    const query = init.query ?? {};
    const call: ListCall = {
      kind: "list",
      continue: query.continue as string | undefined,
      limit: query.limit as number | undefined,
    };
    const error = this.#record(call);
    if (error) return Promise.reject(error);
    let snapshot;
    let offset = 0;
    if (call.continue) {
      const [id, at] = call.continue.split(":");
      snapshot = this.#snapshots.get(id!);
      if (!snapshot) {
        return Promise.reject(
          new ApiError(410, "Expired", "The provided continue parameter is too old"),
        );
      }
      offset = Number(at);
    } else {
      const items = [...this.#objects.values()].sort((a, b) =>
        a.metadata.name.localeCompare(b.metadata.name)
      );
      snapshot = { version: `${this.#version}`, items };
      this.#snapshots.set(`${++this.#snapshotId}`, snapshot);
    }
    const limit = call.limit ?? Infinity;
    const items = snapshot.items.slice(offset, offset + limit);
    const next = offset + items.length < snapshot.items.length
      ? `${call.continue?.split(":")[0] ?? this.#snapshotId}:${offset + items.length}`
      : undefined;
    return Promise.resolve({
      metadata: { resourceVersion: snapshot.version, ...(next ? { continue: next } : {}) },
      items: structuredClone(items),
    } as T);
  }

  async *watch(_path: string, query: Query, signal: AbortSignal): AsyncGenerator<RawWatchEvent> {
    const call: WatchCall = {
      kind: "watch",
      resourceVersion: query.resourceVersion as string,
      stream: new FakeWatch(),
    };
    const error = this.#record(call);
    await Promise.resolve();
    if (error) throw error;
    yield* call.stream.events(signal);
  }

  #record(call: Call): Error | undefined {
    const error = this.fault(call, this.calls.length);
    this.calls.push(call);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    return error;
  }
}
