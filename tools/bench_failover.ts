/**
 * `deno task bench:failover`: how long writes through `<name>` stop when the primary's node
 * fails or is cut off, over several runs, on two real nodes. A Database with `--replicas`
 * (default 3; `synchronousReplicas: 1` with 3), a client on the other node writing one row every
 * 100 ms; each run moves the primary to the instance alone on its node (a switchover), faults
 * that node (`fail` or `partition`), records the time to the first acknowledged write, restores
 * the node and waits until the old primary streams again. At the end it counts acknowledged
 * rows the database lacks (there should be none).
 *
 * Target (printed, not asserted): the first write within 30 s of the fault.
 *
 * ```sh
 * deno task bench:failover --runs 5 --fault fail
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ControlPlane, eventually, startOperator } from "./testenv/mod.ts";
import { createDatabase, VALID_SPEC } from "../tests/_support/databases.ts";
import { HaDatabase } from "../tests/_support/ha.ts";
import { startWriter } from "../tests/_support/writer.ts";
import { percentile } from "./load/workload.ts";

const USAGE = `Usage: deno task bench:failover [--runs N] [--fault fail|partition] [--replicas 2|3]

Times the first acknowledged write through the read-write Service after the primary's node
fails or is cut off, on two real nodes (needs root; see README "Real nodes").`;

/** One run's measure. */
export interface FailoverRun {
  fault: "fail" | "partition";
  /** From the fault to the first acknowledged write through `<name>` (ms). */
  firstWriteMs: number;
}

/** Runs the benchmark; resolves with each run and the acknowledged rows missing at the end. */
export async function runFailoverBench(
  runs: number,
  fault: "fail" | "partition",
  replicas: number,
): Promise<{ runs: FailoverRun[]; missing: number }> {
  await using plane = await ControlPlane.start({ mode: "cluster", realNodes: 2 });
  await using operator = await startOperator(plane);
  await operator.ready();
  const secret = "bench-credentials";
  await createDatabase(plane.client, "default", "bench", {
    ...VALID_SPEC,
    replicas,
    // With two instances a synchronous standby would leave the new primary waiting for one.
    synchronousReplicas: replicas > 2 ? 1 : 0,
    storage: { size: "1Gi" },
  });
  const ha = new HaDatabase(plane, "bench", secret);
  const standbys = replicas - 1;
  await ha.settled(standbys);
  const nodeOf = await ha.nodes();
  const counts = new Map<string, number>();
  for (const node of nodeOf.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
  if (counts.size !== 2) throw new Error(`instances on one node: ${[...nodeOf.entries()]}`);
  const lone = [...nodeOf.entries()].find(([, node]) => counts.get(node) === 1)![0];
  const faulted = nodeOf.get(lone)!;
  const other = [...counts.keys()].find((n) => n !== faulted)!;
  await ha.createTable();
  await using writer = await startWriter(plane, "bench-writer", other, secret);
  const results: FailoverRun[] = [];
  for (let run = 1; run <= runs; run++) {
    if ((await ha.read()).status?.currentPrimary !== lone) await ha.switchover(lone, standbys);
    const at = Date.now();
    if (fault === "fail") await plane.failNode(faulted);
    else await plane.partitionNode(faulted);
    let first = 0;
    await eventually(
      async () => {
        // A write acknowledged just after the fault was sent before it: count from the first
        // write that failed after the fault.
        const seen = await writer.writes();
        const failed = seen.find((w) => !w.ok && w.at > at);
        first = failed ? seen.find((w) => w.ok && w.at > failed.at)?.at ?? 0 : 0;
        return first > 0;
      },
      "a write after the fault",
      { timeoutMs: 180_000, intervalMs: 250 },
    );
    results.push({ fault, firstWriteMs: first - at });
    console.error(`run ${run}/${runs}: first acknowledged write ${first - at} ms after ${fault}`);
    await plane.restoreNode(faulted);
    await ha.settled(standbys);
  }
  const missing = (await ha.missingRows([writer], other)).length;
  return { runs: results, missing };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "5" },
      fault: { type: "string", default: "fail" },
      replicas: { type: "string", default: "3" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const fault = values.fault;
  const replicas = Number(values.replicas);
  if ((fault !== "fail" && fault !== "partition") || !(replicas === 2 || replicas === 3)) {
    console.error(USAGE);
    Deno.exit(2);
  }
  const { runs, missing } = await runFailoverBench(Number(values.runs), fault, replicas);
  const ms = runs.map((r) => r.firstWriteMs).sort((a, b) => a - b);
  console.log(JSON.stringify({
    fault,
    replicas,
    runs: ms.length,
    firstWriteMs: { min: ms[0], p50: percentile(ms, 50), max: ms[ms.length - 1] },
    target: "max <= 30000",
    acknowledgedRowsMissing: missing,
  }));
}
