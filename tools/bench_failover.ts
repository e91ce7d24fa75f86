/**
 * `deno task bench:failover`: how long writes through `<name>` stop when the primary's node
 * fails or is cut off, over several runs, on two real nodes. A Database with `--replicas`
 * (default 3; `synchronousReplicas: 1` with 3), a client on the other node writing one row every
 * 100 ms; each run moves the primary to the instance alone on its node (a switchover), faults
 * that node (`fail` or `partition`), records the time to the first acknowledged write, restores
 * the node and waits until the old primary streams again. At the end it counts acknowledged
 * rows the database lacks (there should be none).
 *
 * With `--fill-gib G` the database holds G GiB first, and it also prints how long the old
 * primary took to stream again after its node returned (by `pg_rewind`) and, at the end, how
 * long a new standby took to copy the same data with `pg_basebackup` (a scale-up by one).
 *
 * Target (printed, not asserted): the first write within 30 s of the fault.
 *
 * ```sh
 * deno task bench:failover --runs 5 --fault fail
 * deno task bench:failover --runs 1 --fault partition --fill-gib 1
 * ```
 *
 * @module
 */
import { ControlPlane, eventually, startOperator } from "./testenv/mod.ts";
import { createDatabase, VALID_SPEC } from "../tests/_support/databases.ts";
import { HaDatabase } from "../tests/_support/ha.ts";
import { startWriter } from "../tests/_support/writer.ts";
import { psql } from "../tests/_support/real_node.ts";
import { percentile } from "./load/workload.ts";
import { taskArgs } from "./task_args.ts";

const SUMMARY = "Times the first acknowledged write through the read-write Service after the " +
  'primary\'s node fails or is cut off, on two real nodes (needs root; README "Real nodes").';

/** One run's measure. */
export interface FailoverRun {
  fault: "fail" | "partition";
  /** From the fault to the first acknowledged write through `<name>` (ms). */
  firstWriteMs: number;
  /** From the node's return to the old primary streaming again (ms). */
  rejoinMs: number;
  /** How the old primary rejoined, from its log: `pg_rewind` or `pg_basebackup`. */
  rejoinedBy: string;
}

/** Rows of ~1 KiB written per statement when filling. */
const CHUNK = 100_000;

/** Runs the benchmark; resolves with each run and the acknowledged rows missing at the end. */
export async function runFailoverBench(
  runs: number,
  fault: "fail" | "partition",
  replicas: number,
  fillGib = 0,
): Promise<{ runs: FailoverRun[]; missing: number; cloneMs?: number }> {
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
  if (fillGib > 0) await fill(plane, secret, other, fillGib);
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
    await plane.restoreNode(faulted);
    const back = Date.now();
    // Streaming again means a new WAL sender for it on the primary, started after the return.
    await eventually(
      async () =>
        await psql(
          plane,
          `SELECT count(*) FROM pg_stat_replication WHERE application_name = '${lone}' ` +
            `AND state = 'streaming' AND backend_start > to_timestamp(${back / 1000})`,
          { secret, node: other },
        ).catch(() => "0") === "1",
      `${lone} streams again`,
      { timeoutMs: 600_000, intervalMs: 250 },
    );
    const rejoinMs = Date.now() - back;
    await ha.settled(standbys);
    const log = await ha.log(lone);
    const rejoinedBy = /copying .* afresh with pg_basebackup/.test(log)
      ? "pg_basebackup"
      : /rewound to/.test(log)
      ? "pg_rewind"
      : "unknown";
    results.push({ fault, firstWriteMs: first - at, rejoinMs, rejoinedBy });
    console.error(
      `run ${run}/${runs}: first acknowledged write ${first - at} ms after ${fault}; ` +
        `${lone} streams again ${rejoinMs} ms after its node returned (${rejoinedBy})`,
    );
  }
  const missing = (await ha.missingRows([writer], other)).length;
  if (fillGib === 0) return { runs: results, missing };
  // A new standby copies everything: the cost pg_rewind saves.
  const scale = (n: number) =>
    plane.kubectl([
      "patch",
      "database",
      "bench",
      "--type=merge",
      "-p",
      `{"spec":{"replicas":${n}}}`,
    ]);
  const cloning = Date.now();
  await scale(replicas + 1);
  await ha.settled(standbys + 1);
  const cloneMs = Date.now() - cloning;
  console.error(`a new standby streams ${cloneMs} ms after the scale-up (pg_basebackup)`);
  await scale(replicas);
  return { runs: results, missing, cloneMs };
}

/** Writes `gib` GiB into a table `big` through the read-write Service. */
async function fill(plane: ControlPlane, secret: string, node: string, gib: number) {
  const sql = (text: string) => psql(plane, text, { secret, node });
  await sql("CREATE TABLE big (id int, pad text)");
  const started = Date.now();
  const rows = Math.round(gib * 1024 * 1024);
  for (let from = 1; from <= rows; from += CHUNK) {
    const to = Math.min(rows, from + CHUNK - 1);
    await sql(
      `INSERT INTO big SELECT g, repeat(md5(g::text), 30) FROM generate_series(${from}, ${to}) g`,
    );
  }
  const bytes = Number(await sql("SELECT pg_database_size(current_database())"));
  console.error(`filled ${(bytes / 2 ** 30).toFixed(2)} GiB in ${Date.now() - started} ms`);
}

if (import.meta.main) {
  const values = taskArgs({
    task: "bench:failover",
    summary: SUMMARY,
    options: {
      runs: { type: "string", default: "5", value: "N", help: "faults, one after the other" },
      fault: { type: "string", default: "fail", value: "fail|partition", help: "the fault" },
      replicas: { type: "string", default: "3", value: "2|3", help: "the Database's instances" },
      "fill-gib": { type: "string", default: "0", value: "G", help: "GiB of data written first" },
    },
  });
  const fault = values.fault;
  const replicas = Number(values.replicas);
  if ((fault !== "fail" && fault !== "partition") || !(replicas === 2 || replicas === 3)) {
    console.error("deno task bench:failover: --fault is fail or partition, --replicas 2 or 3");
    Deno.exit(2);
  }
  const fillGib = Number(values["fill-gib"]);
  const { runs, missing, cloneMs } = await runFailoverBench(
    Number(values.runs),
    fault,
    replicas,
    fillGib,
  );
  const ms = runs.map((r) => r.firstWriteMs).sort((a, b) => a - b);
  console.log(JSON.stringify({
    fault,
    replicas,
    runs: ms.length,
    firstWriteMs: { min: ms[0], p50: percentile(ms, 50), max: ms[ms.length - 1] },
    target: "max <= 30000",
    acknowledgedRowsMissing: missing,
    ...(fillGib > 0
      ? {
        fillGib,
        rejoinMs: runs.map((r) => `${r.rejoinMs} (${r.rejoinedBy})`),
        newStandbyCloneMs: cloneMs,
      }
      : {}),
  }));
}
