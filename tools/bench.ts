/**
 * `deno task bench`: the floor and the operator's load test back to back for N = 50 and
 * N = 1,000, each on a fresh `cluster` control plane with client rate limits off for both, and
 * the ratio operator / floor (target at N = 1,000: at most 1.25). For each N it writes a chart of
 * Ready Databases over time for both (`--chart`, `{count}` standing for N).
 *
 * @module
 */
import { runFloor } from "./bench_floor.ts";
import { runLoadtest } from "./loadtest.ts";
import { writeReadyChart } from "./load/chart.ts";
import { taskArgs } from "./task_args.ts";

if (import.meta.main) {
  const values = taskArgs({
    task: "bench",
    summary: "the load test's floor and the operator at each count, one table",
    options: {
      counts: { type: "string", default: "50,1000", value: "N,M", help: "Databases per run" },
      concurrency: { type: "string", default: "50", value: "N", help: "parallel creations" },
      "max-concurrent-reconciles": {
        type: "string",
        default: "2",
        value: "N",
        help: "the operator's workers",
      },
      "steady-seconds": {
        type: "string",
        default: "60",
        value: "S",
        help: "converged time measured",
      },
      chart: {
        type: "string",
        default: "docs/perf/bench-{count}.svg",
        value: "PATH",
        help: "chart",
      },
    },
  });
  const rows = [];
  for (const count of values.counts!.split(",").map(Number)) {
    console.error(`--- floor, N=${count}`);
    const floor = await runFloor(count, Number(values.concurrency));
    console.error(`--- operator, N=${count}`);
    const operator = await runLoadtest({
      count,
      namespace: "loadtest",
      concurrency: Number(values.concurrency),
      keep: false,
      operatorArgs: [
        "--kube-api-qps=0",
        `--max-concurrent-reconciles=${values["max-concurrent-reconciles"]}`,
      ],
      steadySeconds: Number(values["steady-seconds"]),
      restart: true,
      timeoutSeconds: 1800,
    });
    const ratio = (operator.allReadySeconds as number) / floor.allReadySeconds;
    const { readySeconds: floorSeries, ...floorReport } = floor;
    const { readySeconds: oursSeries, ...operatorReport } = operator;
    const chart = values.chart!.replaceAll("{count}", String(count));
    await writeReadyChart(chart, [
      { name: "floor", seconds: floorSeries },
      { name: "ours", seconds: oursSeries as number[] },
    ], `Databases Ready over time, N=${count}, ${values["max-concurrent-reconciles"]} workers`);
    console.error(`chart: ${chart}`);
    rows.push({
      count,
      floor: floorReport,
      operator: operatorReport,
      ratio: Math.round(ratio * 100) / 100,
    });
    console.error(
      `N=${count}: floor ${floor.allReadySeconds} s, operator ${operator.allReadySeconds} s, ` +
        `ratio ${ratio.toFixed(2)} (target <= 1.25 at N=1000)`,
    );
  }
  console.log(JSON.stringify(rows, null, 2));
}
