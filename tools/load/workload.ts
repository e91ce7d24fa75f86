/**
 * The load test's workload: create N Databases as fast as allowed, and watch them become Ready.
 *
 * @module
 */
import { Informer, LAST_APPLIED_ANNOTATION } from "../../src/runtime/cache/mod.ts";
import { ApiError, collectionPath, CORE, type KubeClient } from "../../src/runtime/client/mod.ts";
import { eventually } from "../testenv/eventually.ts";
import { type Database, DATABASE_RESOURCE } from "../../src/database/api/types.ts";
import { desiredSecret, generatePassword } from "../../src/database/credentials/secret.ts";
import { desiredService } from "../../src/database/services/service.ts";
import { desiredStatefulSet } from "../../src/database/instances/statefulset.ts";

/** The spec of every load-test Database: the course's valid-db. */
export const LOAD_SPEC = {
  image: "postgres:17",
  replicas: 1,
  databaseName: "mydb",
  username: "admin",
  storage: { size: "10Gi" },
};

/**
 * Creates `names` with `concurrency` requests in flight; returns when each was created.
 * `environmentOf` sets a Database's `spec.environment` (none by default).
 */
export async function createDatabases(
  client: KubeClient,
  namespace: string,
  names: string[],
  concurrency: number,
  environmentOf: (name: string) => string | undefined = () => undefined,
): Promise<Map<string, number>> {
  const createdAt = new Map<string, number>();
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, async () => {
    while (next < names.length) {
      const name = names[next++]!;
      const environment = environmentOf(name);
      await client.request("POST", collectionPath(DATABASE_RESOURCE, namespace), {
        body: {
          apiVersion: "database.example.com/v1",
          kind: "Database",
          metadata: { name, labels: { "loadtest": "true" } },
          spec: environment ? { ...LOAD_SPEC, environment } : LOAD_SPEC,
        },
      });
      createdAt.set(name, performance.now());
    }
  }));
  return createdAt;
}

/**
 * Writes a Database and, with no operator logic, the three objects the operator would make for
 * it; returns the created Database. The floor and the memory benchmark use it.
 */
export async function writeDatabaseAndObjects(
  client: KubeClient,
  namespace: string,
  name: string,
  onCreated: (db: Database) => void = () => {},
): Promise<Database> {
  const path = (
    type:
      | typeof CORE.secrets
      | typeof DATABASE_RESOURCE
      | typeof CORE.services
      | typeof CORE.statefulSets,
  ) => collectionPath(type, namespace);
  const manifest = {
    apiVersion: "database.example.com/v1",
    kind: "Database",
    metadata: { name, namespace },
    spec: LOAD_SPEC,
  };
  // `kubectl apply`, the seed's way to create Databases, keeps a copy of the manifest.
  const annotations = { [LAST_APPLIED_ANNOTATION]: `${JSON.stringify(manifest)}\n` };
  const db = await client.request<Database>("POST", path(DATABASE_RESOURCE), {
    body: { ...manifest, metadata: { ...manifest.metadata, annotations } },
  });
  onCreated(db);
  await client.request("POST", path(CORE.secrets), {
    body: desiredSecret(db, LOAD_SPEC, generatePassword()),
  });
  await client.request("POST", path(CORE.services), { body: desiredService(db) });
  await client.request("POST", path(CORE.statefulSets), {
    body: desiredStatefulSet(db, LOAD_SPEC),
  });
  return db;
}

/** Watches a namespace's Databases and records when each first reports phase Ready. */
export class ReadyTracker {
  readonly readyAt = new Map<string, number>();
  readonly informer: Informer<Database>;
  readonly #total: number;
  readonly #started = performance.now();
  #resolve!: () => void;
  /** Resolves when every expected Database has been Ready once. */
  readonly done: Promise<void>;

  constructor(client: KubeClient, namespace: string, total: number) {
    this.#total = total;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    this.informer = new Informer<Database>(client, DATABASE_RESOURCE, { namespace });
    this.informer.subscribe(({ object }) => {
      const name = object.metadata.name!;
      if (object.status?.phase !== "Ready" || this.readyAt.has(name)) return;
      this.readyAt.set(name, performance.now());
      if (this.readyAt.size >= this.#total) this.#resolve();
    });
  }

  /**
   * The time series of the run: seconds from `since` (a `performance.now()` value, such as the
   * first create) to each Database's turning Ready, in order.
   */
  readySeconds(since: number): number[] {
    return [...this.readyAt.values()].map((t) => (t - since) / 1000).sort((a, b) => a - b);
  }

  /** One progress line: N/total Ready, rate and ETA. */
  progress(): string {
    const seconds = (performance.now() - this.#started) / 1000;
    const ready = this.readyAt.size;
    const rate = ready / Math.max(seconds, 0.001);
    const eta = rate > 0 ? ((this.#total - ready) / rate).toFixed(0) : "?";
    return `${ready}/${this.#total} Ready, ${rate.toFixed(1)}/s, ETA ${eta} s`;
  }

  /** Databases not Ready yet, with their conditions, for a loud failure. */
  stragglers(limit = 10): string[] {
    return this.informer.store.list()
      .filter((db) => !this.readyAt.has(db.metadata.name!))
      .slice(0, limit)
      .map((db) =>
        `${db.metadata.name}: phase=${db.status?.phase ?? "-"} ` +
        (db.status?.conditions ?? []).map((c) => `${c.type}=${c.status}(${c.reason}: ${c.message})`)
          .join(" ")
      );
  }
}

/** Prints `line()` in place every second on a terminal (every 5 s otherwise) until `until`. */
export async function showProgress(line: () => string, until: Promise<unknown>): Promise<void> {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let finished = false;
  until.finally(() => (finished = true)).catch(() => {});
  let ticks = 0;
  while (!finished) {
    await Promise.race([until.catch(() => {}), new Promise((r) => setTimeout(r, 1_000))]);
    ticks++;
    if (tty) Deno.stderr.writeSync(encoder.encode(`\r  ${line()}\x1b[K`));
    else if (ticks % 5 === 0 || finished) console.error(`  ${line()}`);
  }
  if (tty) Deno.stderr.writeSync(encoder.encode("\n"));
}

/** `n` to two decimals, as the reports print numbers. */
export function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** p-th percentile (0..100) of values, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** `promise`, or a rejection with `message()` after `ms`; the timer never outlives it. */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  message: () => string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What {@linkcode createAndAwaitReady} saw. */
export interface Wave {
  /** `performance.now()` just before the first create. */
  started: number;
  /** `performance.now()` once every create was answered. */
  created: number;
  /** When each Database's create was answered. */
  createdAt: Map<string, number>;
  /** The tracker, whose `readyAt` holds when each turned Ready. */
  tracker: ReadyTracker;
}

/**
 * Creates `names` in `namespace` (`concurrency` at a time) and waits until every one has
 * reported phase Ready, whatever operator runs.
 * @throws {Error} naming the stragglers when not all are Ready within `timeoutMs`
 */
export async function createAndAwaitReady(
  client: KubeClient,
  namespace: string,
  names: string[],
  concurrency: number,
  timeoutMs: number,
  environmentOf?: (name: string) => string | undefined,
): Promise<Wave> {
  const tracker = new ReadyTracker(client, namespace, names.length);
  const watching = new AbortController();
  const tracking = tracker.informer.run(watching.signal);
  try {
    await tracker.informer.synced;
    const started = performance.now();
    const createdAt = await createDatabases(client, namespace, names, concurrency, environmentOf);
    const created = performance.now();
    const all = withTimeout(
      tracker.done,
      timeoutMs,
      () =>
        `Only ${tracker.readyAt.size}/${names.length} Ready after ${timeoutMs / 1000} s. ` +
        `Stragglers:\n${tracker.stragglers().join("\n")}`,
    );
    await showProgress(() => tracker.progress(), all);
    await all;
    return { started, created, createdAt, tracker };
  } finally {
    watching.abort();
    await tracking;
  }
}

/** Deletes a namespace and waits until it is gone; returns the seconds that took. */
export async function deleteNamespace(client: KubeClient, namespace: string): Promise<number> {
  const started = performance.now();
  await client.request("DELETE", `/api/v1/namespaces/${namespace}`);
  await eventually(
    async () => {
      try {
        await client.request("GET", `/api/v1/namespaces/${namespace}`);
        return false;
      } catch (error) {
        if (error instanceof ApiError && error.code === 404) return true;
        throw error;
      }
    },
    "namespace deleted",
    { timeoutMs: 600_000, intervalMs: 500 },
  );
  return Math.round((performance.now() - started) / 10) / 100;
}

/** Seconds from a run's start to three points of a set of objects: first, median and last. */
export interface Spread {
  first: number;
  median: number;
  last: number;
}

/** When each part of the StatefulSet pipeline happened; see {@linkcode pipelineSpread}. */
export interface PipelineSpread {
  statefulSetsCreated: Spread;
  podsCreated: Spread;
  podsScheduled: Spread;
  podsReady: Spread;
}

/** One line for a {@linkcode PipelineSpread}: each stage's first, median and last second. */
export function describePipeline(pipeline: PipelineSpread): string {
  const stage = (spread: Spread) => `${JSON.stringify(spread)} s`;
  return `StatefulSets created ${stage(pipeline.statefulSetsCreated)}, pods created ` +
    `${stage(pipeline.podsCreated)}, scheduled ${stage(pipeline.podsScheduled)}, Ready ` +
    stage(pipeline.podsReady);
}

/**
 * When the StatefulSet pipeline did its parts, read back from the objects after a run (whole
 * seconds, as the API server stamps them): each StatefulSet's creation, and each pod's creation,
 * scheduling and turning Ready, counted from `startedWallMs` (the run's first create, wall
 * clock). Where the stages drift apart shows which controller fell behind.
 */
export async function pipelineSpread(
  client: KubeClient,
  namespace: string,
  startedWallMs: number,
): Promise<PipelineSpread> {
  interface Listed {
    items: {
      metadata: { creationTimestamp?: string };
      status?: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
    }[];
  }
  const seconds = (stamp: string | undefined) =>
    stamp === undefined ? NaN : (Date.parse(stamp) - startedWallMs) / 1000;
  const spread = (values: number[]): Spread => {
    const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    return {
      first: round(sorted[0] ?? NaN),
      median: round(sorted[Math.floor(sorted.length / 2)] ?? NaN),
      last: round(sorted.at(-1) ?? NaN),
    };
  };
  const sets = await client.request<Listed>("GET", collectionPath(CORE.statefulSets, namespace));
  const pods = await client.request<Listed>("GET", collectionPath(CORE.pods, namespace));
  const condition = (type: string) =>
    spread(pods.items.map((p) =>
      seconds(
        p.status?.conditions?.find((c) => c.type === type && c.status === "True")
          ?.lastTransitionTime,
      )
    ));
  return {
    statefulSetsCreated: spread(sets.items.map((s) => seconds(s.metadata.creationTimestamp))),
    podsCreated: spread(pods.items.map((p) => seconds(p.metadata.creationTimestamp))),
    podsScheduled: condition("PodScheduled"),
    podsReady: condition("Ready"),
  };
}
