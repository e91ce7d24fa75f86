/**
 * `deno task loadtest`: the course's Exercise 5 as a repeatable measurement. Starts (or reuses)
 * a `cluster`-mode control plane and the operator as a separate process, creates N Databases,
 * waits until all are Ready, and reports latency, API requests, CPU and memory; then checks
 * 60 s of steady state and an operator restart for writes, and times deletion.
 *
 * @module
 */
import { collectionPath, KubeClient, loadConnection } from "../src/runtime/client/mod.ts";
import { DATABASE_RESOURCE } from "../src/database/api/types.ts";
import { ControlPlane, eventually, startOperator } from "./testenv/mod.ts";
import type { OperatorProcess } from "./testenv/operator.ts";
import { cpuSeconds, memoryMiB } from "./load/proc_stats.ts";
import { scrape, sumBy } from "./load/prometheus.ts";
import { createAndAwaitReady, deleteNamespace, percentile, round } from "./load/workload.ts";
import { LOADTEST_USAGE, type LoadtestOptions, parseLoadtestArgs } from "./load/loadtest_args.ts";

export type { LoadtestOptions };

/** Options of one load test. */

const MIX = ["production", "staging", "development"];

/**
 * Control-plane client limits for load runs, so the StatefulSet controller and the scheduler
 * (defaults 20/30 with 5 workers, and 50/100) are not what gets measured.
 */
export const FAST_CONTROL_PLANE = {
  controllerManager: { qps: 1000, burst: 2000, statefulSetSyncs: 50 },
  scheduler: { qps: 1000, burst: 2000 },
};

/**
 * Runs one load test; the result is what the report prints, plus `readySeconds` (seconds from
 * the first create to each Database's turning Ready, for charts).
 */
export async function runLoadtest(o: LoadtestOptions): Promise<Record<string, unknown>> {
  const plane = o.kubeconfig
    ? undefined
    : await ControlPlane.start({ mode: "cluster", ...FAST_CONTROL_PLANE });
  if (plane) {
    console.error(
      `cluster: kube-controller-manager and kube-scheduler raised to client qps 1000, burst ` +
        `2000; ${FAST_CONTROL_PLANE.controllerManager.statefulSetSyncs} StatefulSet workers`,
    );
  }
  const connection = plane?.connection ?? await loadConnection({ kubeconfig: o.kubeconfig! });
  const client = new KubeClient(connection, { qps: 0, userAgent: "loadtest" });
  const kubeconfig = plane?.kubeconfigPath ?? o.kubeconfig!;
  const result: Record<string, unknown> = { count: o.count, operatorArgs: o.operatorArgs };
  let operator: OperatorProcess | undefined;
  try {
    await client.request("POST", "/api/v1/namespaces", {
      body: { metadata: { name: o.namespace } },
    });
    operator = await startOperatorFor(plane, kubeconfig, o.operatorArgs, "operator");
    await operator.ready();
    const metricsUrl = `http://127.0.0.1:${operator.metricsPort}/metrics`;
    const apiPid = plane?.pidOf("kube-apiserver");
    const apiCpu0 = apiPid ? cpuSeconds(apiPid) : NaN;
    const opCpu0 = cpuSeconds(operator.process.pid);
    const names = Array.from({ length: o.count }, (_, i) => `load-test-${i}`);
    const environmentOf = (name: string) =>
      o.mixEnvironments
        ? MIX[Number(name.slice(name.lastIndexOf("-") + 1)) % MIX.length]
        : undefined;
    const { started, created, createdAt, tracker } = await createAndAwaitReady(
      client,
      o.namespace,
      names,
      o.concurrency,
      o.timeoutSeconds * 1000,
      environmentOf,
    );
    const allReady = Math.max(...tracker.readyAt.values());
    const latencyOf = (n: string) => tracker.readyAt.get(n)! - createdAt.get(n)!;
    const latencies = names.map(latencyOf);
    const samples = await scrape(metricsUrl);
    const requests = Object.fromEntries(sumBy(samples, "rest_client_requests_total", "method"));
    const totalRequests = Object.values(requests).reduce((a, b) => a + b, 0);
    const reconciles = sumBy(samples, "controller_runtime_reconcile_total").get("") ?? 0;
    Object.assign(result, {
      createSeconds: round((created - started) / 1000),
      allReadySeconds: round((allReady - started) / 1000),
      latencyMs: {
        p50: round(percentile(latencies, 50)),
        p90: round(percentile(latencies, 90)),
        p99: round(percentile(latencies, 99)),
        max: round(Math.max(...latencies)),
      },
      operatorRequests: {
        total: totalRequests,
        perDatabase: round(totalRequests / o.count),
        byMethod: requests,
      },
      ...(o.mixEnvironments
        ? { latencyByEnvironmentMs: byEnvironment(names, environmentOf, latencyOf) }
        : {}),
      reconcilesPerDatabase: round(reconciles / o.count),
      operatorPeakRssMiB: round(memoryMiB(operator.process.pid).peak),
      operatorCpuSeconds: round(cpuSeconds(operator.process.pid) - opCpu0),
      apiServerCpuSeconds: apiPid ? round(cpuSeconds(apiPid) - apiCpu0) : "n/a (external cluster)",
      phases: await phaseCounts(client, o.namespace),
      readySeconds: tracker.readySeconds(started),
    });
    if (o.steadySeconds > 0) {
      result.steadyState = await steadyState(metricsUrl, o.steadySeconds);
    }
    if (o.restart) {
      await operator.stop();
      result.restart = await measureRestart(
        plane,
        kubeconfig,
        o.operatorArgs,
        (op) => (operator = op),
      );
    }
    if (!o.keep) result.deleteSeconds = await deleteNamespace(client, o.namespace);
    return result;
  } finally {
    await operator?.stop();
    client.close();
    await plane?.stop();
  }
}

function startOperatorFor(
  plane: ControlPlane | undefined,
  kubeconfig: string,
  args: string[],
  name: string,
): Promise<OperatorProcess> {
  const base = ["--metrics-secure=false", ...args];
  return startOperator(
    plane ?? { kubeconfigPath: kubeconfig, dir: Deno.makeTempDirSync() },
    base,
    name,
  );
}

/** Writes and reconciles over a quiet period after convergence (target: both 0). */
async function steadyState(metricsUrl: string, seconds: number) {
  const count = async () => {
    const samples = await scrape(metricsUrl);
    const byMethod = sumBy(samples, "rest_client_requests_total", "method");
    const writes = [...byMethod].filter(([m]) => m !== "GET").reduce((n, [, v]) => n + v, 0);
    return {
      writes,
      reconciles: sumBy(samples, "controller_runtime_reconcile_total").get("") ?? 0,
    };
  };
  const before = await count();
  console.error(`steady state: watching for ${seconds} s…`);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await count();
  return {
    seconds,
    writes: after.writes - before.writes,
    reconciles: after.reconciles - before.reconciles,
  };
}

/** Starts a fresh operator over converged Databases: time to synced caches and writes sent. */
async function measureRestart(
  plane: ControlPlane | undefined,
  kubeconfig: string,
  args: string[],
  adopt: (op: OperatorProcess) => void,
) {
  const started = performance.now();
  const op = await startOperatorFor(plane, kubeconfig, args, "operator-restarted");
  adopt(op);
  await op.ready();
  const synced = performance.now();
  const metricsUrl = `http://127.0.0.1:${op.metricsPort}/metrics`;
  let last = -1;
  // Settled: the reconcile count stops moving for two seconds.
  await eventually(
    async () => {
      const now = sumBy(await scrape(metricsUrl), "controller_runtime_reconcile_total").get("") ??
        0;
      const settled = now === last && now > 0;
      last = now;
      return settled;
    },
    "restarted operator settled",
    { intervalMs: 2_000, timeoutMs: 300_000 },
  );
  const samples = await scrape(metricsUrl);
  const writes = [...sumBy(samples, "rest_client_requests_total", "method")]
    .filter(([m]) => m !== "GET").reduce((n, [, v]) => n + v, 0);
  return { cachesSyncedSeconds: round((synced - started) / 1000), reconciles: last, writes };
}

async function phaseCounts(client: KubeClient, namespace: string): Promise<Record<string, number>> {
  const list = await client.request<{ items: { status?: { phase?: string } }[] }>(
    "GET",
    collectionPath(DATABASE_RESOURCE, namespace),
  );
  const counts: Record<string, number> = {};
  for (const item of list.items) {
    const phase = item.status?.phase ?? "<none>";
    counts[phase] = (counts[phase] ?? 0) + 1;
  }
  return counts;
}

/** create→Ready p50 and p90 of the production Databases and of the rest. */
function byEnvironment(
  names: string[],
  environmentOf: (name: string) => string | undefined,
  latencyOf: (name: string) => number,
) {
  const production = names.filter((n) => environmentOf(n) === "production").map(latencyOf);
  const rest = names.filter((n) => environmentOf(n) !== "production").map(latencyOf);
  const summary = (l: number[]) => ({
    count: l.length,
    p50: round(percentile(l, 50)),
    p90: round(percentile(l, 90)),
  });
  return { production: summary(production), rest: summary(rest) };
}

if (import.meta.main) {
  let options: LoadtestOptions | "help";
  try {
    options = parseLoadtestArgs(Deno.args);
  } catch (error) {
    console.error(`deno task loadtest: ${(error as Error).message}\n${LOADTEST_USAGE}`);
    Deno.exit(2);
  }
  if (options === "help") {
    console.log(LOADTEST_USAGE);
    Deno.exit(0);
  }
  const result = await runLoadtest(options);
  const { readySeconds: _series, ...report } = result;
  console.log(JSON.stringify(report, null, 2));
  if (options.json) await Deno.writeTextFile(options.json, JSON.stringify(report, null, 2));
}
