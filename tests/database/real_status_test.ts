/**
 * Status tells the truth about pods, on the real node: an image that cannot be pulled and a
 * container that keeps failing show as `Degraded` with their reason and message, and
 * `Ready=False`. The failing container is the real case behind it: PostgreSQL 15 data under a
 * PostgreSQL 17 image, which admission refuses when the tags say so and the pod refuses (with a
 * message the status carries) when only a digest does.
 */
import assert from "node:assert/strict";
import type { Database } from "../../src/database/api/types.ts";
import { ControlPlane, ensureImage, eventually, startOperator } from "../../tools/testenv/mod.ts";
import { mustKubectl, psql, realNodeTest } from "../_support/real_node.ts";
import { createDatabase, VALID_SPEC } from "../_support/databases.ts";

realNodeTest(
  "pod failures show in the Database's status; a major version change is refused",
  async (t) => {
    await using plane = await ControlPlane.start({
      mode: "cluster",
      realNode: true,
      images: ["postgres:17", "postgres:15"],
    });
    await using operator = await startOperator(plane);
    await operator.ready();
    const kubectl = mustKubectl(plane);
    const condition = async (name: string, type: string) => {
      const db = JSON.parse(await kubectl(["get", "database", name, "-o", "json"])) as Database;
      return db.status?.conditions?.find((c) => c.type === type);
    };
    /** Waits until `name` is Degraded with a reason `accept` allows; returns the condition. */
    const degraded = async (name: string, accept: RegExp) => {
      let seen: Awaited<ReturnType<typeof condition>>;
      await eventually(
        async () => {
          seen = await condition(name, "Degraded");
          return seen?.status === "True" && accept.test(seen.reason ?? "");
        },
        `${name} Degraded`,
        { timeoutMs: 180_000, intervalMs: 500, describe: () => seen },
      );
      const ready = await condition(name, "Ready");
      assert.equal(ready?.status, "False");
      return seen!;
    };

    await t.step(
      "an image that cannot be pulled: Degraded ImagePullBackOff, not Ready",
      async () => {
        // The lab's image: there is no registry to pull it from here.
        await createDatabase(plane.client, "default", "no-image", {
          ...VALID_SPEC,
          image: "postgres:14",
        });
        const seen = await degraded("no-image", /^(ErrImagePull|ImagePullBackOff)$/);
        assert.match(seen.message, /postgres:14/);
      },
    );

    await t.step("postgres:15 runs and keeps a row", async () => {
      await createDatabase(plane.client, "default", "upgrade-db", {
        ...VALID_SPEC,
        image: "postgres:15",
      });
      await kubectl(["wait", "--for=condition=Ready", "database/upgrade-db", "--timeout=180s"]);
      const out = await psql(
        plane,
        "CREATE TABLE t (v text); INSERT INTO t VALUES ('written by 15'); SELECT version()",
        { secret: "upgrade-db-credentials" },
      );
      assert.match(out, /PostgreSQL 15\./);
    });

    await t.step("15 → 17 by tag is refused at admission, saying how to upgrade", async () => {
      const out = await plane.kubectl([
        "patch",
        "database",
        "upgrade-db",
        "--type=merge",
        '-p={"spec":{"image":"postgres:17"}}',
      ]);
      assert.notEqual(out.code, 0);
      assert.match(out.stderr, /cannot change PostgreSQL's major version/);
    });

    await t.step("15 → 17 by digest: the pod refuses the data, the status says why", async () => {
      const layout = await ensureImage("postgres:17");
      const index = JSON.parse(await Deno.readTextFile(`${layout}/index.json`));
      const image = `docker.io/library/postgres@${index.manifests[0].digest}`;
      await kubectl([
        "patch",
        "database",
        "upgrade-db",
        "--type=merge",
        `-p={"spec":{"image":"${image}"}}`,
      ]);
      const seen = await degraded("upgrade-db", /^CrashLoopBackOff$/);
      assert.match(seen.message, /initialised by PostgreSQL 15 and this image runs PostgreSQL 17/);
      assert.match(seen.message, /sync-credentials/);
    });

    await t.step("back on postgres:15 it is Ready again with its data", async () => {
      await kubectl([
        "patch",
        "database",
        "upgrade-db",
        "--type=merge",
        '-p={"spec":{"image":"postgres:15"}}',
      ]);
      // The StatefulSet controller does not replace a pod stuck before Ready; its owner would.
      await kubectl(["delete", "pod", "upgrade-db-0", "--wait=false"]);
      await kubectl(["wait", "--for=condition=Ready", "database/upgrade-db", "--timeout=180s"]);
      assert.equal((await condition("upgrade-db", "Degraded"))?.status, "False");
      const out = await psql(plane, "SELECT v FROM t", { secret: "upgrade-db-credentials" });
      assert.equal(out, "written by 15");
    });
  },
);
