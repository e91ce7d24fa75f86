/**
 * `deno task bench:peer`: our operator against a minimal controller-runtime operator doing the
 * same job (`tools/controlplane/peer`), on one `cluster` control plane with the fast
 * controller-manager and scheduler limits, in ABBA order (peer, ours, ours, peer) so that drift
 * in the machine's speed weighs on both alike. Each run starts its operator, creates N Databases
 * in a fresh namespace, waits until all are Ready, reads the operator's requests (the change of
 * its `rest_client_requests_total` over the run) and RSS, then stops it and deletes the
 * namespace before the next run. Both run with the same number of workers and no client rate
 * limit. Unless `--no-floor`, the floor (`bench_floor.ts`, on its own plane) runs first.
 *
 * Targets (printed, not asserted): ours / peer at most 0.90, ours / floor at most 1.10, at most
 * 5 requests per Database for ours.
 *
 * @module
 */
import { KubeClient } from "../src/runtime/client/mod.ts";
import { runFloor } from "./bench_floor.ts";
import { FAST_CONTROL_PLANE } from "./loadtest.ts";
import { writeReadyChart } from "./load/chart.ts";
import { cpuSeconds, memoryMiB } from "./load/proc_stats.ts";
import { scrape, sumBy } from "./load/prometheus.ts";
import {
  createAndAwaitReady,
  deleteNamespace,
  describePipeline,
  type PipelineSpread,
  pipelineSpread,
  round,
} from "./load/workload.ts";
import { ControlPlane, eventually, startOperator, startPeerOperator } from "./testenv/mod.ts";
import type { OperatorProcess } from "./testenv/operator.ts";
import { taskArgs } from "./task_args.ts";

/** Which operator a run drives. */
export type OperatorKind = "ours" | "peer";

/** Options of {@linkcode runPeerBench}. */
export interface PeerBenchOptions {
  /** Databases per run. */
  count: number;
  /** Workers of either operator. */
  maxConcurrentReconciles: number;
  /** Creates in flight. */
  concurrency: number;
  /** Operators in run order. @default {["peer", "ours", "ours", "peer"]} */
  order?: OperatorKind[];
  /** Also run the floor on its own plane, first. @default true */
  floor?: boolean;
  /** Where to write the chart of Ready Databases over time; none when unset. */
  chart?: string;
  /** Bound on each run's wait for all Ready. @default 1800 */
  timeoutSeconds?: number;
}

/** The plane's processes whose CPU each run reports. */
const PLANE_PROCESSES = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
];

/** One run of one operator. */
export interface PeerRun {
  operator: OperatorKind;
  /** 1-based position in the ABBA order. */
  run: number;
  /** From the first create to the last Database's turning Ready. */
  allReadySeconds: number;
  /** Requests the operator sent during the run (after its caches synced), by HTTP method. */
  requests: { total: number; perDatabase: number; byMethod: Record<string, number> };
  /** The operator's resident set at the end of the run, and its peak. */
  rssMiB: number;
  peakRssMiB: number;
  /** Seconds from the first create to each Database's turning Ready, in order. */
  readySeconds: number[];
  /** CPU seconds from the first create to all Ready: the operator's and each plane process's. */
  cpuSeconds: Record<string, number>;
  /** When the StatefulSets were created and their pods turned Ready (whole seconds). */
  pipeline: PipelineSpread;
}

/** What {@linkcode runPeerBench} measured. */
export interface PeerBenchReport {
  count: number;
  maxConcurrentReconciles: number;
  runs: PeerRun[];
  floor?: { allReadySeconds: number; readySeconds: number[] };
  summary: {
    oursMedianSeconds: number;
    peerMedianSeconds: number;
    /** Target at most 0.90. */
    oursOverPeer: number;
    /** Target at most 1.10; only with the floor. */
    oursOverFloor?: number;
    /** Medians over each operator's runs; target for ours at most 5. */
    oursRequestsPerDatabase: number;
    peerRequestsPerDatabase: number;
    oursRssMiB: number;
    peerRssMiB: number;
  };
}

/** Runs the floor (optionally) and the ABBA comparison; writes the chart if asked. */
export async function runPeerBench(o: PeerBenchOptions): Promise<PeerBenchReport> {
  const order = o.order ?? ["peer", "ours", "ours", "peer"];
  let floor: PeerBenchReport["floor"];
  if (o.floor ?? true) {
    console.error(`--- floor, N=${o.count}`);
    const { allReadySeconds, readySeconds } = await runFloor(o.count, o.concurrency);
    floor = { allReadySeconds, readySeconds };
  }
  const runs: PeerRun[] = [];
  {
    await using plane = await ControlPlane.start({ mode: "cluster", ...FAST_CONTROL_PLANE });
    const client = new KubeClient(plane.connection, { qps: 0, userAgent: "bench-peer" });
    try {
      for (const [i, kind] of order.entries()) {
        console.error(`--- ${kind} (run ${i + 1}/${order.length}), N=${o.count}`);
        const run = await runOnce(plane, client, kind, i + 1, o);
        console.error(
          `${kind} #${run.run}: all Ready in ${run.allReadySeconds} s, ` +
            `${run.requests.perDatabase} requests per Database, RSS ${run.rssMiB} MiB; ` +
            `${describePipeline(run.pipeline)}; CPU seconds ${JSON.stringify(run.cpuSeconds)}`,
        );
        runs.push(run);
      }
    } finally {
      client.close();
    }
  }
  const of = (kind: OperatorKind) => runs.filter((r) => r.operator === kind);
  const median = (values: number[]) => {
    // The mean of the middle two for an even count (ABBA gives each operator two runs).
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length / 2;
    return round(
      Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!,
    );
  };
  const ours = of("ours");
  const peer = of("peer");
  const oursMedian = median(ours.map((r) => r.allReadySeconds));
  const peerMedian = median(peer.map((r) => r.allReadySeconds));
  const report: PeerBenchReport = {
    count: o.count,
    maxConcurrentReconciles: o.maxConcurrentReconciles,
    runs,
    ...(floor ? { floor } : {}),
    summary: {
      oursMedianSeconds: oursMedian,
      peerMedianSeconds: peerMedian,
      oursOverPeer: round(oursMedian / peerMedian),
      ...(floor ? { oursOverFloor: round(oursMedian / floor.allReadySeconds) } : {}),
      oursRequestsPerDatabase: median(ours.map((r) => r.requests.perDatabase)),
      peerRequestsPerDatabase: median(peer.map((r) => r.requests.perDatabase)),
      oursRssMiB: median(ours.map((r) => r.rssMiB)),
      peerRssMiB: median(peer.map((r) => r.rssMiB)),
    },
  };
  if (o.chart) {
    await writeReadyChart(
      o.chart,
      [
        ...(floor ? [{ name: "floor", seconds: floor.readySeconds }] : []),
        ...runs.map((r) => ({ name: `${r.operator} #${r.run}`, seconds: r.readySeconds })),
      ],
      `Databases Ready over time, N=${o.count}, ${o.maxConcurrentReconciles} workers`,
    );
  }
  return report;
}

/** One operator over N fresh Databases in its own namespace, deleted afterwards. */
async function runOnce(
  plane: ControlPlane,
  client: KubeClient,
  kind: OperatorKind,
  run: number,
  o: PeerBenchOptions,
): Promise<PeerRun> {
  const namespace = `bench-${kind}-${run}`;
  await client.request("POST", "/api/v1/namespaces", { body: { metadata: { name: namespace } } });
  const workers = `--max-concurrent-reconciles=${o.maxConcurrentReconciles}`;
  let operator: OperatorProcess | undefined;
  try {
    operator = kind === "ours"
      ? await startOperator(
        plane,
        ["--metrics-secure=false", "--kube-api-qps=0", workers],
        `ours-${run}`,
      )
      : await startPeerOperator(plane, [workers], `peer-${run}`);
    await operator.ready(120_000);
    const metricsUrl = `http://127.0.0.1:${operator.metricsPort}/metrics`;
    const before = await requestsByMethod(metricsUrl);
    const names = Array.from({ length: o.count }, (_, i) => `db-${i}`);
    const pids: [string, number][] = [
      ["operator", operator.process.pid],
      ...PLANE_PROCESSES.flatMap((name): [string, number][] => {
        const pid = plane.pidOf(name);
        return pid === undefined ? [] : [[name, pid]];
      }),
    ];
    const cpuBefore = pids.map(([, pid]) => cpuSeconds(pid));
    const { started, tracker } = await createAndAwaitReady(
      client,
      namespace,
      names,
      o.concurrency,
      (o.timeoutSeconds ?? 1800) * 1000,
    );
    const allReady = Math.max(...tracker.readyAt.values());
    const cpu = Object.fromEntries(
      pids.map(([name, pid], i) => [name, round(cpuSeconds(pid) - cpuBefore[i]!)]),
    );
    const pipeline = await pipelineSpread(
      client,
      namespace,
      Date.now() - (performance.now() - started),
    );
    const memory = memoryMiB(operator.process.pid);
    const after = await settledRequests(metricsUrl);
    const byMethod: Record<string, number> = {};
    for (const [method, n] of after) {
      const sent = n - (before.get(method) ?? 0);
      if (sent !== 0) byMethod[method] = sent;
    }
    const total = Object.values(byMethod).reduce((a, b) => a + b, 0);
    return {
      operator: kind,
      run,
      allReadySeconds: round((allReady - started) / 1000),
      requests: { total, perDatabase: round(total / o.count), byMethod },
      rssMiB: round(memory.current),
      peakRssMiB: round(memory.peak),
      readySeconds: tracker.readySeconds(started),
      cpuSeconds: cpu,
      pipeline,
    };
  } finally {
    await operator?.stop();
    await deleteNamespace(client, namespace);
  }
}

async function requestsByMethod(metricsUrl: string): Promise<Map<string, number>> {
  return sumBy(await scrape(metricsUrl), "rest_client_requests_total", "method");
}

/**
 * The request counts once they stop moving: the Event for the last Ready goes out just after
 * the status write the tracker saw.
 */
async function settledRequests(metricsUrl: string): Promise<Map<string, number>> {
  let last = -1;
  let counts = new Map<string, number>();
  await eventually(
    async () => {
      counts = await requestsByMethod(metricsUrl);
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const settled = total === last;
      last = total;
      return settled;
    },
    "operator requests settled",
    { intervalMs: 500, timeoutMs: 60_000 },
  );
  return counts;
}

if (import.meta.main) {
  const values = taskArgs({
    task: "bench:peer",
    summary: "the operator against controller-runtime in the same run",
    options: {
      count: { type: "string", default: "1000", value: "N", help: "Databases" },
      concurrency: { type: "string", default: "50", value: "N", help: "parallel creations" },
      "max-concurrent-reconciles": { type: "string", default: "2", value: "N", help: "workers" },
      "no-floor": { type: "boolean", default: false, help: "leave the floor run out" },
      chart: {
        type: "string",
        default: "docs/perf/bench-peer-{count}.svg",
        value: "PATH",
        help: "chart",
      },
      timeout: { type: "string", default: "1800", value: "S", help: "seconds per run" },
    },
  });
  const count = Number(values.count);
  const chart = values.chart!.replaceAll("{count}", String(count));
  const report = await runPeerBench({
    count,
    concurrency: Number(values.concurrency),
    maxConcurrentReconciles: Number(values["max-concurrent-reconciles"]),
    floor: !values["no-floor"],
    chart,
    timeoutSeconds: Number(values.timeout),
  });
  const s = report.summary;
  console.error(`--- N=${count}, ${report.maxConcurrentReconciles} workers`);
  for (const r of report.runs) {
    console.error(
      `  ${r.operator} #${r.run}: ${r.allReadySeconds} s to all Ready, ` +
        `${r.requests.perDatabase} requests/Database ${JSON.stringify(r.requests.byMethod)}, ` +
        `RSS ${r.rssMiB} MiB (peak ${r.peakRssMiB}); ${describePipeline(r.pipeline)}`,
    );
  }
  console.error(
    `  median: ours ${s.oursMedianSeconds} s, peer ${s.peerMedianSeconds} s; ` +
      `ours/peer ${s.oursOverPeer} (target <= 0.90)` +
      (s.oursOverFloor !== undefined
        ? `; floor ${report.floor!.allReadySeconds} s, ours/floor ${s.oursOverFloor} ` +
          `(target <= 1.10)`
        : ""),
  );
  console.error(
    `  requests per Database: ours ${s.oursRequestsPerDatabase} (target <= 5), ` +
      `peer ${s.peerRequestsPerDatabase}; RSS: ours ${s.oursRssMiB} MiB, peer ${s.peerRssMiB} MiB`,
  );
  console.error(`  chart: ${chart}`);
  const { floor, runs, ...rest } = report;
  console.log(JSON.stringify(
    {
      ...rest,
      ...(floor ? { floor: { allReadySeconds: floor.allReadySeconds } } : {}),
      runs: runs.map(({ readySeconds: _series, ...run }) => run),
    },
    null,
    2,
  ));
}
