/**
 * `deno task bench:memory`: the operator's memory with 10,000 Databases and their 30,000 owned
 * objects in its caches (target: at most 150 MB RSS). The objects are written directly (the same
 * ones the operator makes) on an `apiserver`-mode control plane, then the operator process starts
 * over them, syncs its caches and settles; its RSS is read from /proc. Then, unless `--no-peer`,
 * the same for the controller-runtime peer (`tools/controlplane/peer`) over the same objects,
 * after our operator has stopped.
 *
 * @module
 */
import { ControlPlane, eventually, startOperator, startPeerOperator } from "./testenv/mod.ts";
import type { OperatorProcess } from "./testenv/operator.ts";
import { memoryMiB } from "./load/proc_stats.ts";
import { scrape, sumBy } from "./load/prometheus.ts";
import { writeDatabaseAndObjects } from "./load/workload.ts";
import { taskArgs } from "./task_args.ts";

if (import.meta.main) {
  const values = taskArgs({
    task: "bench:memory",
    summary: "the operator's RSS over N Databases (first run and restart), beside the peer's",
    options: {
      count: { type: "string", default: "10000", value: "N", help: "Databases" },
      "no-peer": { type: "boolean", default: false, help: "leave controller-runtime out" },
      // As the shipped binary is compiled with (README, "Memory").
      "max-old-space-size": { type: "string", value: "MIB", help: "V8's old-space limit" },
      "max-semi-space-size": { type: "string", value: "MIB", help: "V8's semi-space limit" },
      // Any other V8 flags, comma-separated (e.g. `--optimize-for-size`, which it also has).
      "v8-flags": { type: "string", value: "A,B", help: "other V8 flags" },
    },
  });
  const count = Number(values.count);
  const v8Flags = (["max-old-space-size", "max-semi-space-size"] as const)
    .filter((flag) => values[flag] !== undefined)
    .map((flag) => `--${flag}=${values[flag]}`)
    .concat(values["v8-flags"]?.split(",") ?? []);
  await using plane = await ControlPlane.start();
  const client = plane.client;
  const namespace = "memory";
  await client.request("POST", "/api/v1/namespaces", { body: { metadata: { name: namespace } } });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < count) {
      await writeDatabaseAndObjects(client, namespace, `db-${next++}`);
    }
  }));
  console.error(
    `wrote ${count * 4} objects in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  const startOurs = () =>
    startOperator(
      plane,
      ["--metrics-secure=false", "--kube-api-qps=0", "--max-concurrent-reconciles=8"],
      "operator",
      false,
      v8Flags,
    );
  // The first run writes every status; the restart is the steady state of a converged cluster.
  for (const run of ["first run", "converged restart"]) {
    const ours = await measure(count, startOurs);
    console.log(JSON.stringify({ operator: "ours", run, databases: count, v8Flags, ...ours }));
  }
  if (!values["no-peer"]) {
    const peer = await measure(
      count,
      () => startPeerOperator(plane, ["--max-concurrent-reconciles=8"]),
    );
    console.log(JSON.stringify({ operator: "peer", databases: count, ...peer }));
  }
}

/**
 * Starts an operator over the written objects, waits until it has synced and reconciled every
 * Database, reads its memory, and stops it.
 */
async function measure(count: number, start: () => Promise<OperatorProcess>) {
  const opStarted = performance.now();
  await using operator = await start();
  await operator.ready(300_000);
  const syncedSeconds = (performance.now() - opStarted) / 1000;
  const url = `http://127.0.0.1:${operator.metricsPort}/metrics`;
  let last = -1;
  await eventually(
    async () => {
      const now = sumBy(await scrape(url), "controller_runtime_reconcile_total").get("") ?? 0;
      const settled = now === last && now >= count;
      last = now;
      return settled;
    },
    "operator settled",
    { intervalMs: 3_000, timeoutMs: 900_000 },
  );
  const memory = memoryMiB(operator.process.pid);
  const metrics = await scrape(url);
  const cached = sumBy(metrics, "informer_cached_objects").get("");
  const heapUsed = sumBy(metrics, "nodejs_heap_size_used_bytes").get("");
  return {
    ...(cached !== undefined ? { cachedObjects: cached } : {}),
    processStartToCachesSyncedSeconds: Math.round(syncedSeconds * 100) / 100,
    reconciles: last,
    rssMiB: Math.round(memory.current),
    peakRssMiB: Math.round(memory.peak),
    rssMB: Math.round((memory.current * 1048576) / 1e6),
    ...(heapUsed !== undefined ? { heapUsedMiB: Math.round(heapUsed / 1048576) } : {}),
  };
}
