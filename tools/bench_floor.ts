/**
 * `deno task bench:floor`: the floor for N Databases on this machine. A raw client, no operator
 * logic, issues at full concurrency exactly the writes a Database minimally needs: create the
 * Database, its Secret, Service and StatefulSet, and one status write once the StatefulSet is
 * ready. The time until all N report Ready is the best any operator could do on this control
 * plane, so the load test's time is judged against it.
 *
 * @module
 */
import { Informer } from "../src/runtime/cache/mod.ts";
import { CORE, KubeClient, objectPath } from "../src/runtime/client/mod.ts";
import type { StatefulSet } from "../src/database/instances/statefulset.ts";
import { type Database, DATABASE_RESOURCE } from "../src/database/api/types.ts";
import { statefulSetReady } from "../src/database/status/status.ts";
import { ControlPlane } from "./testenv/mod.ts";
import { FAST_CONTROL_PLANE } from "./loadtest.ts";
import {
  percentile,
  ReadyTracker,
  showProgress,
  withTimeout,
  writeDatabaseAndObjects,
} from "./load/workload.ts";
import { taskArgs } from "./task_args.ts";

/** Result of one floor run. */
export interface FloorResult {
  count: number;
  allReadySeconds: number;
  writes: number;
  latencyP50Ms: number;
  /** Seconds from the first create to each Database's turning Ready, in order (for charts). */
  readySeconds: number[];
}

/** Runs the floor for `count` Databases on a fresh `cluster` control plane. */
export async function runFloor(count: number, concurrency: number): Promise<FloorResult> {
  await using plane = await ControlPlane.start({
    mode: "cluster",
    ...FAST_CONTROL_PLANE,
  });
  let writes = 0;
  const client = new KubeClient(plane.connection, {
    qps: 0,
    userAgent: "floor",
    observer: (method) => method !== "GET" && writes++,
  });
  const namespace = "floor";
  await client.request("POST", "/api/v1/namespaces", { body: { metadata: { name: namespace } } });
  const tracker = new ReadyTracker(client, namespace, count);
  const statefulSets = new Informer<StatefulSet>(client, CORE.statefulSets, { namespace });
  const databases = new Map<string, Database>();
  const statusWritten = new Set<string>();
  statefulSets.subscribe(({ object }) => {
    const name = object.metadata.name!;
    const db = databases.get(name);
    if (!db || statusWritten.has(name) || !statefulSetReady(object, 1)) return;
    statusWritten.add(name);
    writeStatus(name, 5);
  });
  const writeStatus = (name: string, attempts: number) => {
    client.request("PATCH", objectPath(DATABASE_RESOURCE, namespace, name, "status"), {
      body: { status: { phase: "Ready", ready: true, readyReplicas: 1 } },
      contentType: "application/merge-patch+json",
    }).catch((error) => {
      if (attempts <= 1) throw error;
      setTimeout(() => writeStatus(name, attempts - 1), 100);
    });
  };
  const stop = new AbortController();
  const running = [tracker.informer.run(stop.signal), statefulSets.run(stop.signal)];
  try {
    await Promise.all([tracker.informer.synced, statefulSets.synced]);
    const started = performance.now();
    const createdAt = new Map<string, number>();
    let next = 0;
    const workers = Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const name = `load-test-${next++}`;
        await writeDatabaseAndObjects(client, namespace, name, (db) => {
          createdAt.set(name, performance.now());
          databases.set(name, db);
        });
      }
    });
    await Promise.all(workers);
    const all = withTimeout(
      tracker.done,
      1_800_000,
      () => `Floor timed out; stragglers:\n${tracker.stragglers().join("\n")}`,
    );
    await showProgress(() => tracker.progress(), all);
    await all;
    const seconds = (Math.max(...tracker.readyAt.values()) - started) / 1000;
    const latencies = [...tracker.readyAt].map(([n, t]) => t - createdAt.get(n)!);
    return {
      count,
      allReadySeconds: Math.round(seconds * 100) / 100,
      writes,
      latencyP50Ms: Math.round(percentile(latencies, 50)),
      readySeconds: tracker.readySeconds(started),
    };
  } finally {
    stop.abort();
    await Promise.all(running);
    client.close();
  }
}

if (import.meta.main) {
  const values = taskArgs({
    task: "bench:floor",
    summary: "the control plane's floor: Databases made Ready by a script, no operator",
    options: {
      count: { type: "string", default: "50", value: "N", help: "Databases" },
      concurrency: { type: "string", default: "50", value: "N", help: "parallel creations" },
    },
  });
  const { readySeconds: _series, ...floor } = await runFloor(
    Number(values.count),
    Number(values.concurrency),
  );
  console.log(JSON.stringify(floor));
}
