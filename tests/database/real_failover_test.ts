/**
 * High availability on two real nodes, measured by clients that write every 100 ms through
 * `<name>`: switchovers by annotation, the primary's node cut off (its primary fenced, a
 * standby on the other node promoted, no acknowledged row lost with `synchronousReplicas: 1`),
 * and the old primary back as a standby by `pg_rewind`.
 */
import assert from "node:assert/strict";
import type { Database } from "../../src/database/api/types.ts";
import { ControlPlane, eventually, startOperator } from "../../tools/testenv/mod.ts";
import { mustKubectl, psql, realNodeTest } from "../_support/real_node.ts";
import { postgresPids } from "../_support/real_nodes.ts";
import { createDatabase, VALID_SPEC } from "../_support/databases.ts";
import { longestGap, startWriter, type Write } from "../_support/writer.ts";

const SECRET = "ha-credentials";

type Pod = { metadata: { name: string }; spec: { nodeName?: string } };

realNodeTest(
  "replicas 3 on two nodes: switchover, a cut-off primary fenced, rewound back",
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
    let db: Database | undefined;
    const database = async () =>
      db = JSON.parse(await kubectl(["get", "database", "ha", "-o", "json"])) as Database;
    const settled = (primary?: (name: string) => boolean) =>
      eventually(
        async () => {
          const s = (await database()).status;
          return s?.ready === true && s.streamingReplicas === 2 && !s.targetPrimary &&
            (primary?.(s.currentPrimary ?? "") ?? true);
        },
        "ha Ready with two streaming standbys",
        { timeoutMs: 300_000, intervalMs: 500, describe: () => db?.status },
      );
    await settled();
    assert.equal(db?.status?.currentPrimary, "ha-0");
    const pods = (await plane.client.request<{ items: Pod[] }>(
      "GET",
      "/api/v1/namespaces/default/pods",
      { query: { labelSelector: "database=ha" } },
    )).items;
    const nodeOf = new Map(pods.map((p) => [p.metadata.name, p.spec.nodeName ?? ""]));
    // Preferred anti-affinity spreads them: one node has one instance, the other two.
    const counts = new Map<string, number>();
    for (const node of nodeOf.values()) counts.set(node, (counts.get(node) ?? 0) + 1);
    assert.equal(counts.size, 2, `instances on ${[...nodeOf.entries()]}`);
    const lone = [...nodeOf.entries()].find(([, node]) => counts.get(node) === 1)![0];
    const cutNode = nodeOf.get(lone)!;
    const otherNode = [...counts.keys()].find((n) => n !== cutNode)!;
    await psql(plane, "CREATE TABLE acked (id int, writer text)", { secret: SECRET });
    await using outside = await startWriter(plane, "writer-outside", otherNode, SECRET);
    await using inside = await startWriter(plane, "writer-inside", cutNode, SECRET);

    const switchover = async (to: string) => {
      const from = Date.now();
      await kubectl([
        "annotate",
        "--overwrite",
        "database",
        "ha",
        `database.example.com/target-primary=${to}`,
      ]);
      await settled((p) => p === to);
      const after = Date.now();
      await eventually(
        async () => (await outside.writes()).some((w) => w.ok && w.at > after),
        "writes go on after the switchover",
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const gap = longestGap(await outside.writes(), from, Date.now());
      console.log(`switchover to ${to}: longest gap between acknowledged writes ${gap} ms`);
    };

    await t.step(`switchovers by annotation, ending on ${lone}, alone on its node`, async () => {
      // At least one real switchover, whichever instance is alone.
      if (lone === "ha-0") await switchover([...nodeOf.keys()].find((p) => p !== lone)!);
      await switchover(lone);
      assert.equal(db?.status?.currentPrimary, lone);
    });

    let promotedAt = 0;
    let restoredAt = 0;
    await t.step(
      `partition of ${cutNode}: ${lone} fences itself, a standby takes over`,
      async () => {
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
            const s = (await database()).status;
            return s?.currentPrimary !== lone && !s?.targetPrimary;
          },
          "a standby on the other node is the primary",
          { timeoutMs: 120_000, intervalMs: 250, describe: () => db?.status },
        );
        promotedAt = Date.now();
        let writes: Write[] = [];
        await eventually(
          async () => (writes = await outside.writes()).some((w) => w.ok && w.at > cut),
          "a write through ha succeeds after the cut",
          { timeoutMs: 120_000, intervalMs: 500 },
        );
        const first = writes.find((w) => w.ok && w.at > cut)!;
        console.log(
          `partition: fenced after ${fenced - cut} ms, promoted after ${promotedAt - cut} ms, ` +
            `first acknowledged write after ${first.at - cut} ms`,
        );
      },
    );

    await t.step(`restore of ${cutNode}: ${lone} rejoins by pg_rewind and streams`, async () => {
      restoredAt = Date.now();
      await plane.restoreNode(cutNode);
      let log = "";
      await eventually(
        async () =>
          /rewound to ha-\d/.test(
            log = (await plane.kubectl(["logs", lone, "-c", "postgres"])).stdout,
          ),
        `${lone} says it was rewound`,
        { timeoutMs: 180_000, intervalMs: 1_000, describe: () => log.slice(-800) },
      );
      assert.doesNotMatch(log, /afresh/);
      const primary = db!.status!.currentPrimary!;
      const uri = async (host: string) =>
        atob(await kubectl(["get", "secret", SECRET, "-o", "jsonpath={.data.uri}"]))
          .replace(/@[^:/]+/, `@${host}.ha-pods.default.svc`);
      const onPrimary = await uri(primary);
      let streaming = "";
      await eventually(
        async () =>
          (streaming = await psql(
            plane,
            `SELECT state FROM pg_stat_replication WHERE application_name = '${lone}'`,
            { secret: SECRET, uri: onPrimary, node: otherNode },
          ).catch((e) => `${e}`)) === "streaming",
        `${lone} streams from ${primary}`,
        { timeoutMs: 120_000, intervalMs: 1_000, describe: () => streaming },
      );
      const rows = await psql(
        plane,
        "SELECT count(*) > 0 FROM acked WHERE writer = 'writer-outside'",
        { secret: SECRET, uri: await uri(lone), node: otherNode },
      );
      assert.equal(rows, "t");
    });

    await t.step(
      "no acknowledged row is missing; the cut-off client never wrote meanwhile",
      async () => {
        const [wroteOutside, wroteInside] = [await outside.writes(), await inside.writes()];
        const stored = new Set(
          (await psql(plane, "SELECT writer || ':' || id FROM acked", {
            secret: SECRET,
            node: otherNode,
          })).split("\n"),
        );
        const missing = [
          ...wroteOutside.filter((w) => w.ok).map((w) => `writer-outside:${w.id}`),
          ...wroteInside.filter((w) => w.ok).map((w) => `writer-inside:${w.id}`),
        ].filter((row) => !stored.has(row));
        assert.deepEqual(missing, []);
        assert.ok(wroteOutside.filter((w) => w.ok).length > 20);
        // While cut off, through its node's stale Service rules, to the fenced old primary.
        assert.deepEqual(
          wroteInside.filter((w) => w.ok && w.at > promotedAt && w.at < restoredAt),
          [],
        );
      },
    );
  },
);
