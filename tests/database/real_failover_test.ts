/**
 * High availability on two real nodes, measured by clients that write every 100 ms through
 * `<name>`: switchovers by annotation, by `kubectl drain` and by an image change; a primary
 * stopped with SIGSTOP; the primary's node cut off (its primary fenced, a standby on the other
 * node promoted, the old primary back by `pg_rewind`); the primary's node failed. With
 * `synchronousReplicas: 1` no acknowledged row is lost anywhere.
 */
import assert from "node:assert/strict";
import { ControlPlane, eventually, startOperator } from "../../tools/testenv/mod.ts";
import { mustKubectl, psql, realNodeTest } from "../_support/real_node.ts";
import { postgresPids } from "../_support/real_nodes.ts";
import { createDatabase, VALID_SPEC } from "../_support/databases.ts";
import { HaDatabase } from "../_support/ha.ts";
import { longestGap, startWriter, type Write } from "../_support/writer.ts";

const SECRET = "ha-credentials";
/** The same PostgreSQL 17 image under a second name: a change of `spec.image` to roll. */
const ROLLED_IMAGE = "postgres:17-trixie";

realNodeTest(
  "replicas 3 on two nodes: switchover, drain, rolling update, SIGSTOP, partition, node failure",
  async (t) => {
    await using plane = await ControlPlane.start({ mode: "cluster", realNodes: 2 });
    await using operator = await startOperator(plane);
    await operator.ready();
    const kubectl = mustKubectl(plane);
    await createDatabase(plane.client, "default", "ha", {
      ...VALID_SPEC,
      replicas: 3,
      synchronousReplicas: 1,
      storage: { size: "1Gi" },
    });
    const ha = new HaDatabase(plane, "ha", SECRET);
    await ha.settled(2);
    assert.equal(ha.primary, "ha-0");
    const nodeOf = await ha.nodes();
    // Preferred anti-affinity spreads them: one node has one instance, the other two.
    const counts = new Map<string, number>();
    for (const node of nodeOf.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
    assert.equal(counts.size, 2, `instances on ${[...nodeOf.entries()]}`);
    const lone = [...nodeOf.entries()].find(([, node]) => counts.get(node) === 1)![0];
    const cutNode = nodeOf.get(lone)!;
    const otherNode = [...counts.keys()].find((n) => n !== cutNode)!;
    await ha.createTable();
    await using outside = await startWriter(plane, "writer-outside", otherNode, SECRET);
    await using inside = await startWriter(plane, "writer-inside", cutNode, SECRET);
    const toLone = async () => {
      if (ha.primary !== lone) {
        await ha.measureGap(`switchover to ${lone}`, outside, () => ha.switchover(lone, 2), noop);
      }
    };

    await t.step(`switchovers by annotation, ending on ${lone}, alone on its node`, async () => {
      // At least one real switchover, whichever instance is alone.
      if (lone === "ha-0") {
        const to = [...nodeOf.keys()].find((p) => p !== lone)!;
        await ha.measureGap(`switchover to ${to}`, outside, () => ha.switchover(to, 2), noop);
      }
      await toLone();
      assert.equal(ha.primary, lone);
    });

    await t.step(`drain of ${cutNode}: the primary moves first, its pod waits`, async () => {
      await ha.measureGap(
        "drain",
        outside,
        () =>
          kubectl([
            "drain",
            cutNode,
            "--pod-selector=database=ha",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--timeout=180s",
          ]),
        noop,
      );
      assert.notEqual((await ha.read()).status?.currentPrimary, lone);
      await kubectl(["uncordon", cutNode]);
      await ha.settled(2);
      // The evicted standby started again from its own data directory, not a new copy.
      const init = (await plane.kubectl(["logs", lone, "-c", "sync-credentials"])).stdout;
      assert.match(init, /keeping the data directory/);
    });

    await t.step("an image change restarts standbys first, then switches over", async () => {
      const before = ha.primary;
      const images = async () =>
        (await kubectl([
          "get",
          "pods",
          "-l",
          "database=ha",
          "-o",
          "jsonpath={.items[*].spec.containers[0].image}",
        ])).split(" ");
      await ha.measureGap(
        "rolling update",
        outside,
        () =>
          plane.client.request(
            "PATCH",
            "/apis/database.example.com/v1/namespaces/default/databases/ha",
            {
              body: { spec: { image: ROLLED_IMAGE } },
              contentType: "application/merge-patch+json",
            },
          ),
        () =>
          eventually(
            async () =>
              (await images()).filter((i) => i === ROLLED_IMAGE).length === 3 &&
              (await ha.read()).status?.ready === true && !ha.last?.status?.targetPrimary,
            "every instance runs the new image",
            { timeoutMs: 300_000, intervalMs: 1_000, describe: () => ha.last?.status },
          ),
      );
      await ha.settled(2);
      if (ha.primary === before) {
        // What the operator decided meanwhile (the switchover's Events, a failover's).
        const selector = "involvedObject.name=ha";
        console.log(await kubectl(["get", "events", "--field-selector", selector]).catch(String));
      }
      assert.notEqual(ha.primary, before, "the primary was switched over, not restarted");
    });

    await t.step(
      "SIGSTOP of the primary's postmaster: failover, then it is a standby",
      async () => {
        const stopped = ha.primary;
        const stop = Date.now();
        await kubectl([
          "exec",
          stopped,
          "-c",
          "postgres",
          "--",
          "bash",
          "-c",
          'kill -STOP "$(head -n 1 "$PGDATA/postmaster.pid")"',
        ]);
        await eventually(
          async () => {
            const s = (await ha.read()).status;
            return s?.currentPrimary !== stopped && !s?.targetPrimary;
          },
          "a standby took over",
          { timeoutMs: 120_000, intervalMs: 250, describe: () => ha.last?.status },
        );
        const first = await firstWriteAfter(outside.writes, stop);
        const gap = longestGap(await outside.writes(), stop, first);
        console.log(`SIGSTOP: longest gap between acknowledged writes ${gap} ms`);
        // Its instance manager killed the stopped server; it comes back as a standby.
        await ha.settled(2);
        const previous = await plane.kubectl(["logs", stopped, "-c", "postgres", "--previous"]);
        assert.match(previous.stdout + await ha.log(stopped), /fencing: /);
      },
    );

    let promotedAt = 0;
    let restoredAt = 0;
    await t.step(
      `partition of ${cutNode}: ${lone} fences itself, a standby takes over`,
      async () => {
        await toLone();
        const cut = Date.now();
        await plane.partitionNode(cutNode);
        await eventually(
          async () => (await postgresPids(plane, cutNode)).length === 0,
          `${lone}'s server stopped while its node is cut off`,
          { timeoutMs: 60_000, intervalMs: 250 },
        );
        const fenced = Date.now();
        await eventually(
          async () => {
            const s = (await ha.read()).status;
            return s?.currentPrimary !== lone && !s?.targetPrimary;
          },
          "a standby on the other node is the primary",
          { timeoutMs: 120_000, intervalMs: 250, describe: () => ha.last?.status },
        );
        promotedAt = Date.now();
        const first = await firstWriteAfter(outside.writes, cut);
        console.log(
          `partition: fenced after ${fenced - cut} ms, promoted after ${promotedAt - cut} ms, ` +
            `first acknowledged write after ${first - cut} ms`,
        );
      },
    );

    await t.step(`restore of ${cutNode}: ${lone} rejoins by pg_rewind and streams`, async () => {
      restoredAt = Date.now();
      await plane.restoreNode(cutNode);
      await rejoined(ha, plane, lone, otherNode);
    });

    await t.step(
      "no acknowledged row is missing; the cut-off client never wrote meanwhile",
      async () => {
        assert.deepEqual(await ha.missingRows([outside, inside], otherNode), []);
        assert.ok((await outside.writes()).filter((w) => w.ok).length > 20);
        // While cut off, through its node's stale Service rules, to the fenced old primary.
        assert.deepEqual(
          (await inside.writes()).filter((w) => w.ok && w.at > promotedAt && w.at < restoredAt),
          [],
        );
      },
    );

    await t.step(
      `failure of ${cutNode}: a standby takes over, ${lone} rejoins; a lone instance says why it is down`,
      async () => {
        await toLone();
        // A Database of one instance on the node that fails: nobody can take over for it.
        await kubectl(["cordon", otherNode]);
        try {
          await createDatabase(plane.client, "default", "solo", {
            ...VALID_SPEC,
            storage: { size: "1Gi" },
          });
          await readyCondition(kubectl, "solo", (c) => c?.status === "True");
        } finally {
          await kubectl(["uncordon", otherNode]);
        }
        await psql(plane, "CREATE TABLE t AS SELECT 1 AS n", {
          secret: "solo-credentials",
          node: otherNode,
        });
        const failed = Date.now();
        await plane.failNode(cutNode);
        const first = await firstWriteAfter(outside.writes, failed);
        console.log(`node failure: first acknowledged write after ${first - failed} ms`);
        const lost = await readyCondition(kubectl, "solo", (c) => c?.reason === "NodeLost");
        assert.match(lost?.message ?? "", new RegExp(`solo-0 is on node ${cutNode}`));
        await plane.restoreNode(cutNode);
        await rejoined(ha, plane, lone, otherNode);
        assert.deepEqual(await ha.missingRows([outside], otherNode), []);
        await readyCondition(kubectl, "solo", (c) => c?.status === "True");
        assert.equal(
          await psql(plane, "SELECT count(*) FROM t", {
            secret: "solo-credentials",
            node: otherNode,
          }),
          "1",
        );
      },
    );
  },
);

type Condition = { status?: string; reason?: string; message?: string } | undefined;

/** Waits until the Ready condition of Database `name` passes `test`; returns it. */
async function readyCondition(
  kubectl: (args: string[]) => Promise<string>,
  name: string,
  test: (ready: Condition) => boolean,
): Promise<Condition> {
  let ready: Condition;
  await eventually(
    async () => {
      const db = JSON.parse(await kubectl(["get", "database", name, "-o", "json"])) as {
        status?: { conditions?: ({ type: string } & Condition)[] };
      };
      ready = db.status?.conditions?.find((c) => c.type === "Ready");
      return test(ready);
    },
    `the Ready condition of ${name}`,
    { timeoutMs: 180_000, intervalMs: 1000, describe: () => ready },
  );
  return ready;
}

function noop(): Promise<void> {
  return Promise.resolve();
}

/** When the first write after `since` was acknowledged. */
async function firstWriteAfter(writes: () => Promise<Write[]>, since: number): Promise<number> {
  // A write acknowledged just after `since` was sent before the fault: count from the first
  // write that failed after it.
  const first = (seen: Write[]) => {
    const failed = seen.find((w) => !w.ok && w.at > since);
    return failed ? seen.find((w) => w.ok && w.at > failed.at) : undefined;
  };
  let seen: Write[] = [];
  await eventually(
    async () => first(seen = await writes()) !== undefined,
    "a write through ha fails, then one succeeds",
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  return first(seen)!.at;
}

/** Waits for `pod`, a former primary, to say it was rewound and to stream, with the rows. */
async function rejoined(ha: HaDatabase, plane: ControlPlane, pod: string, node: string) {
  let log = "";
  await eventually(
    async () => /rewound to ha-\d/.test(log = await ha.log(pod)),
    `${pod} says it was rewound`,
    { timeoutMs: 180_000, intervalMs: 1_000, describe: () => log.slice(-800) },
  );
  assert.doesNotMatch(log, /afresh/);
  await ha.settled(2);
  const uri = async (host: string) =>
    atob(await mustKubectl(plane)(["get", "secret", SECRET, "-o", "jsonpath={.data.uri}"]))
      .replace(/@[^:/]+/, `@${host}.ha-pods.default.svc`);
  let streaming = "";
  await eventually(
    async () =>
      (streaming = await psql(
        plane,
        `SELECT state FROM pg_stat_replication WHERE application_name = '${pod}'`,
        { secret: SECRET, uri: await uri(ha.primary), node },
      ).catch((e) => `${e}`)) === "streaming",
    `${pod} streams from ${ha.primary}`,
    { timeoutMs: 120_000, intervalMs: 1_000, describe: () => streaming },
  );
  const rows = await psql(plane, "SELECT count(*) > 0 FROM acked WHERE writer = 'writer-outside'", {
    secret: SECRET,
    uri: await uri(pod),
    node,
  });
  assert.equal(rows, "t");
}
