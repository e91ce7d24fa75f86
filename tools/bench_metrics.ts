/**
 * Measures how long the metrics page takes with 1,000 Databases in the cache: the full registry
 * of the operator (runtime, process and Database metrics), rendered directly and fetched over
 * plain HTTP from the metrics server. Prints the median and slowest of 50 renders and the page
 * size. Run with `deno task bench:metrics` (or `deno run -A tools/bench_metrics.ts`).
 *
 * @module
 */
import { DatabaseMetrics } from "../src/database/reconcile/metrics.ts";
import { type Database, PHASES } from "../src/database/api/types.ts";
import {
  Logger,
  registerProcessMetrics,
  RuntimeMetrics,
} from "../src/runtime/observability/mod.ts";
import { serveMetrics } from "../src/runtime/serving/mod.ts";
import { Store } from "../src/runtime/cache/mod.ts";
import { taskArgs } from "./task_args.ts";

taskArgs({
  task: "bench:metrics",
  summary: "the cost of the Database metrics per scrape",
  options: {},
});

const DATABASES = 1_000;
const RUNS = 50;

const metrics = new RuntimeMetrics();
registerProcessMetrics(metrics.registry);
const store = new Store<Database>();
const databaseMetrics = new DatabaseMetrics(metrics.registry, store);
for (let i = 0; i < DATABASES; i++) {
  store.upsert({
    apiVersion: "database.example.com/v1",
    kind: "Database",
    metadata: { name: `database-${i}`, namespace: `team-${i % 20}`, resourceVersion: `${i}` },
    spec: {
      image: `postgres:${15 + (i % 3)}`,
      replicas: 1,
      databaseName: "app",
      username: "app",
      storage: { size: "10Gi" },
    },
    status: { phase: PHASES[i % PHASES.length]! },
  });
}
// One reconcile per Database, so the histograms and counters hold real series too.
const queue = metrics.workQueue("database");
const reconcile = databaseMetrics.instrument(() => Promise.resolve());
for (let i = 0; i < DATABASES; i++) {
  queue.added();
  queue.gotten(Math.random() * 5);
  await reconcile({ name: `database-${i}`, key: `database-${i}` }, new AbortController().signal);
  queue.done(Math.random() * 50);
  metrics.reconcileTotal.inc({ controller: "database", result: "success" });
  metrics.reconcileTime.observe({ controller: "database" }, Math.random() / 10);
}

async function measure(render: () => Promise<string>): Promise<{ times: number[]; bytes: number }> {
  let bytes = 0;
  for (let i = 0; i < 5; i++) await render(); // Warm up the JIT.
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    bytes = (await render()).length;
    times.push(performance.now() - start);
  }
  return { times: times.sort((a, b) => a - b), bytes };
}

function report(label: string, { times, bytes }: { times: number[]; bytes: number }): void {
  const median = times[Math.floor(times.length / 2)]!;
  console.log(
    `${label}: median ${median.toFixed(2)} ms, slowest ${times.at(-1)!.toFixed(2)} ms ` +
      `(${RUNS} runs, ${DATABASES} Databases, ${(bytes / 1024).toFixed(0)} KiB page)`,
  );
}

report("registry.metrics()", await measure(() => metrics.registry.metrics()));

const stop = new AbortController();
const server = await serveMetrics({
  address: { hostname: "127.0.0.1", port: 0 },
  registry: metrics.registry,
  logger: new Logger({ level: "error" }),
}, stop.signal);
try {
  const url = `http://127.0.0.1:${server.address.port}/metrics`;
  report("GET /metrics (HTTP)", await measure(async () => await (await fetch(url)).text()));
} finally {
  stop.abort();
  await server.finished;
}
