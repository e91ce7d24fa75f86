/**
 * The credentials Secret is the source of truth on the real node: whatever password it holds is
 * the one PostgreSQL accepts, after a hand edit, after the Secret is deleted and recreated, and
 * after the Database is recreated over its retained volume; and Ready means a client can log in.
 */
import assert from "node:assert/strict";
import { ControlPlane, eventually, startOperator } from "../../tools/testenv/mod.ts";
import { mustKubectl, psql, realNodeTest } from "../_support/real_node.ts";
import { createDatabase } from "../_support/databases.ts";

const SECRET = "valid-db-credentials";

realNodeTest(
  "the Secret's password is the one PostgreSQL accepts, whatever happens to it",
  async (t) => {
    await using plane = await ControlPlane.start({ mode: "cluster", realNode: true });
    await using operator = await startOperator(plane);
    await operator.ready();
    const kubectl = mustKubectl(plane);
    const uri = async () =>
      atob(await kubectl(["get", "secret", SECRET, "-o", "jsonpath={.data.uri}"]));
    const version = () =>
      kubectl([
        "get",
        "statefulset",
        "valid-db",
        "-o",
        "jsonpath={.spec.template.metadata.annotations.database\\.example\\.com/credentials-version}",
      ]);
    /** Waits until the pods run with credentials other than `before`, and the Database is Ready. */
    const rolledOver = async (before: string) => {
      await eventually(async () => (await version().catch(() => before)) !== before, "new pods", {
        timeoutMs: 60_000,
      });
      await kubectl(["rollout", "status", "statefulset/valid-db", "--timeout=180s"]);
      await kubectl(["wait", "--for=condition=Ready", "database/valid-db", "--timeout=180s"]);
    };
    const refused = async (oldUri: string) => {
      await assert.rejects(
        psql(plane, "SELECT 1", { secret: SECRET, uri: oldUri }),
        /password authentication failed/,
      );
    };

    await t.step("valid-db becomes Ready; its uri logs in", async () => {
      await createDatabase(plane.client, "default", "valid-db");
      await kubectl(["wait", "--for=condition=Ready", "database/valid-db", "--timeout=180s"]);
      const out = await psql(
        plane,
        "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('first volume'); SELECT count(*) FROM kept",
        { secret: SECRET },
      );
      assert.equal(out.split("\n").at(-1), "1");
    });

    await t.step(
      "a password edited by hand in the Secret is the one PostgreSQL accepts",
      async () => {
        const oldUri = await uri();
        const before = await version();
        await kubectl([
          "patch",
          "secret",
          SECRET,
          "--type=merge",
          `-p={"stringData":{"password":"rotated by hand, with 'quotes' and $igns"}}`,
        ]);
        await rolledOver(before);
        assert.match(await uri(), /rotated%20by%20hand/);
        assert.equal(
          await psql(plane, "SELECT note FROM kept", { secret: SECRET }),
          "first volume",
        );
        await refused(oldUri);
      },
    );

    await t.step("a deleted Secret comes back with a new password that works", async () => {
      const oldUri = await uri();
      const before = await version();
      await kubectl(["delete", "secret", SECRET]);
      await rolledOver(before);
      assert.notEqual(await uri(), oldUri);
      assert.equal(await psql(plane, "SELECT note FROM kept", { secret: SECRET }), "first volume");
      await refused(oldUri);
    });

    await t.step(
      "Ready means a login works: a role changed behind the operator's back",
      async () => {
        await psql(plane, "ALTER ROLE admin PASSWORD 'changed inside the database'", {
          secret: SECRET,
        });
        await kubectl([
          "wait",
          "--for=condition=Ready=False",
          "database/valid-db",
          "--timeout=120s",
        ]);
        // A restart applies the Secret again.
        await kubectl(["delete", "pod", "valid-db-0"]);
        await kubectl(["wait", "--for=condition=Ready", "database/valid-db", "--timeout=180s"]);
        assert.equal(
          await psql(plane, "SELECT note FROM kept", { secret: SECRET }),
          "first volume",
        );
      },
    );

    await t.step(
      "a Database recreated over its retained volume gets a password that works",
      async () => {
        const oldUri = await uri();
        await kubectl(["delete", "database", "valid-db"]);
        await kubectl([
          "wait",
          "--for=delete",
          "pod/valid-db-0",
          "secret/valid-db-credentials",
          "--timeout=180s",
        ]);
        const claims = await kubectl(["get", "pvc", "-l", "database=valid-db", "-o", "name"]);
        assert.equal(claims.trim(), "persistentvolumeclaim/data-valid-db-0", "the volume is kept");
        await createDatabase(plane.client, "default", "valid-db");
        await kubectl(["wait", "--for=condition=Ready", "database/valid-db", "--timeout=180s"]);
        assert.notEqual(await uri(), oldUri);
        assert.equal(
          await psql(plane, "SELECT note FROM kept", { secret: SECRET }),
          "first volume",
        );
        await refused(oldUri);
      },
    );
  },
);
