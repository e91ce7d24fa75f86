/**
 * The course's valid-db on the real node: a real PostgreSQL that a client logs in to with the
 * Secret's `uri` through the Service's DNS name, whose data survives the loss of its pod.
 */
import assert from "node:assert/strict";
import { ControlPlane, startOperator } from "../../tools/testenv/mod.ts";
import { psql, realNodeTest } from "../_support/real_node.ts";
import { createDatabase } from "../_support/databases.ts";

realNodeTest(
  "valid-db runs real PostgreSQL: psql with its Secret, data survives its pod",
  async (t) => {
    await using plane = await ControlPlane.start({ mode: "cluster", realNode: true });
    await using operator = await startOperator(plane);
    await operator.ready();
    const wait = async (args: string[]) => {
      const out = await plane.kubectl(["wait", "--timeout=180s", ...args]);
      assert.equal(out.code, 0, out.stderr);
    };

    await t.step("valid-db becomes Ready with its pod running PostgreSQL", async () => {
      await createDatabase(plane.client, "default", "valid-db");
      await wait(["--for=condition=Ready", "database/valid-db"]);
      await wait(["--for=condition=Ready", "pod/valid-db-0"]);
    });

    await t.step("kubectl logs shows PostgreSQL's first start-up", async () => {
      const logs = await plane.kubectl(["logs", "valid-db-0"]);
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, /PostgreSQL init process complete/);
      assert.match(logs.stdout, /database system is ready to accept connections/);
    });

    await t.step("a client pod logs in with the Secret's uri and writes a row", async () => {
      const out = await psql(
        plane,
        "CREATE TABLE notes (id int PRIMARY KEY, body text); " +
          "INSERT INTO notes VALUES (1, 'written before the pod died'); " +
          "SELECT current_user || '@' || current_database() || ':' || body FROM notes",
        { secret: "valid-db-credentials" },
      );
      assert.equal(out.split("\n").at(-1), "admin@mydb:written before the pod died");
    });

    await t.step(
      "the pod is deleted, comes back on its volume, and the row is still there",
      async () => {
        const uid = async () =>
          (await plane.kubectl(["get", "pod", "valid-db-0", "-o", "jsonpath={.metadata.uid}"]))
            .stdout;
        const before = await uid();
        const deleted = await plane.kubectl(["delete", "pod", "valid-db-0", "--wait=true"]);
        assert.equal(deleted.code, 0, deleted.stderr);
        await wait(["--for=condition=Ready", "pod/valid-db-0"]);
        assert.notEqual(await uid(), before);
        const logs = await plane.kubectl(["logs", "valid-db-0"]);
        assert.match(logs.stdout, /appears to contain a database; skipping initialization/);
        const out = await psql(plane, "SELECT body FROM notes WHERE id = 1", {
          secret: "valid-db-credentials",
        });
        assert.equal(out, "written before the pod died");
      },
    );
  },
);
