/**
 * replicas > 1 on the real node: one writable primary and streaming hot standbys, the
 * read-write and read-only Services, scale down and up, and the primary's pod lost.
 */
import assert from "node:assert/strict";
import type { Database } from "../../src/database/api/types.ts";
import { ControlPlane, eventually, startOperator } from "../../tools/testenv/mod.ts";
import { mustKubectl, psql, realNodeTest, runPod } from "../_support/real_node.ts";
import { createCertificate } from "../../src/runtime/serving/mod.ts";
import { createDatabase, VALID_SPEC } from "../_support/databases.ts";

const SECRET = "valid-db-credentials";

realNodeTest("replicas 3 is a primary with two streaming standbys", async (t) => {
  await using plane = await ControlPlane.start({ mode: "cluster", realNode: true });
  await using operator = await startOperator(plane);
  await operator.ready();
  const kubectl = mustKubectl(plane);
  const database = async () =>
    JSON.parse(await kubectl(["get", "database", "valid-db", "-o", "json"])) as Database;
  /** The Secret's uri, pointed at another host (a pod's DNS name, the -ro Service). */
  const uriAt = async (host: string) => {
    const uri = atob(await kubectl(["get", "secret", SECRET, "-o", "jsonpath={.data.uri}"]));
    return uri.replace(/@[^:/]+/, `@${host}`);
  };
  const standby = (ordinal: number) => `valid-db-${ordinal}.valid-db-pods.default.svc`;
  const ready = async (replicas: number) => {
    let db: Database | undefined;
    await eventually(
      async () => {
        db = await database();
        return db.status?.ready === true && db.status.readyReplicas === replicas &&
          db.status.observedGeneration === db.metadata.generation &&
          (replicas === 1 || db.status.streamingReplicas === replicas - 1);
      },
      `valid-db Ready with ${replicas} replicas`,
      {
        timeoutMs: 300_000,
        intervalMs: 1_000,
        describe: () => db?.status,
      },
    );
  };
  /** Waits until `sql` on a standby returns `expected` (replication is asynchronous). */
  const onStandby = async (ordinal: number, sql: string, expected: string) => {
    const uri = await uriAt(standby(ordinal));
    let seen = "";
    await eventually(
      async () => {
        seen = await psql(plane, sql, { secret: SECRET, uri }).catch((e) => `${e}`);
        return seen === expected;
      },
      `standby ${ordinal} returns ${expected}`,
      { timeoutMs: 60_000, intervalMs: 500, describe: () => seen },
    );
  };
  const scale = (replicas: number) =>
    kubectl([
      "patch",
      "database",
      "valid-db",
      "--type=merge",
      `-p={"spec":{"replicas":${replicas}}}`,
    ]);

  await t.step("replicas 3: Ready when the primary logs in and both standbys stream", async () => {
    await createDatabase(plane.client, "default", "valid-db", { ...VALID_SPEC, replicas: 3 });
    await ready(3);
    const replicating = (await database()).status?.conditions?.find((c) =>
      c.type === "Replicating"
    );
    assert.equal(replicating?.status, "True");
    const services = await kubectl(["get", "services", "-l", "database=valid-db", "-o", "name"]);
    assert.deepEqual(services.trim().split("\n").sort(), [
      "service/valid-db",
      "service/valid-db-pods",
      "service/valid-db-ro",
    ]);
  });

  await t.step("a row written through valid-db is readable on each standby", async () => {
    // Ready speaks for the pods; a new Service's ClusterIP routes once kube-proxy has caught up.
    let failure = "";
    await eventually(
      () =>
        psql(plane, "CREATE TABLE rows (id int PRIMARY KEY); INSERT INTO rows VALUES (1)", {
          secret: SECRET,
        }).then(() => true, (e) => {
          failure = `${e}`;
          if (/already exists/.test(failure)) throw e;
          return false;
        }),
      "the first write through valid-db",
      { timeoutMs: 60_000, intervalMs: 1000, describe: () => failure },
    );
    if (failure) console.log(`before the first write succeeded: ${failure}`);
    await onStandby(1, "SELECT count(*) FROM rows", "1");
    await onStandby(2, "SELECT count(*) FROM rows", "1");
  });

  await t.step("valid-db-ro reads from a standby and refuses writes", async () => {
    const uri = await uriAt("valid-db-ro.default.svc");
    assert.equal(await psql(plane, "SELECT pg_is_in_recovery()", { secret: SECRET, uri }), "t");
    await assert.rejects(
      psql(plane, "INSERT INTO rows VALUES (2)", { secret: SECRET, uri }),
      /read-only transaction/,
    );
  });

  await t.step(
    "TLS: the uri verifies the server (verify-full), both standbys stream over TLS; plaintext, another CA and a name not in the certificate are refused",
    async () => {
      const ssl = "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
      assert.match(await psql(plane, ssl, { secret: SECRET }), /^t\|TLSv1\.[23]$/);
      const walSenders = "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_ssl s " +
        "USING (pid) WHERE s.ssl AND r.state = 'streaming'";
      assert.equal(await psql(plane, walSenders, { secret: SECRET }), "2");
      const pods = JSON.parse(
        await kubectl(["get", "pods", "-l", "database=valid-db", "-o", "json"]),
      )
        .items as { status: { podIP: string } }[];
      // pg_hba.conf has hostssl lines only: a plaintext client is refused by the server.
      const plain = (await uriAt("valid-db.default.svc")).replace("verify-full", "disable");
      await assert.rejects(
        psql(plane, "SELECT 1", { secret: SECRET, uri: plain }),
        /no pg_hba\.conf entry .*no encryption/,
      );
      // verify-full checks the name: an address the certificate does not name is refused.
      await assert.rejects(
        psql(plane, "SELECT 1", { secret: SECRET, uri: await uriAt(pods[0]!.status.podIP) }),
        /server certificate for .* does not match host name|does not match/,
      );
      // A client that trusts another CA refuses the server.
      const other = await createCertificate({ commonName: "another CA", isCA: true });
      await kubectl(["create", "configmap", "other-ca", `--from-literal=ca.crt=${other.certPem}`]);
      try {
        const run = await runPod(plane, {
          name: "psql-other-ca",
          container: {
            image: "postgres:17",
            command: ["psql", "$(URI)", "-XtAc", "SELECT 1"],
            env: [
              { name: "URI", valueFrom: { secretKeyRef: { name: SECRET, key: "uri" } } },
              { name: "PGSSLROOTCERT", value: "/other/ca.crt" },
            ],
            volumeMounts: [{ name: "other", mountPath: "/other" }],
          },
          volumes: [{ name: "other", configMap: { name: "other-ca" } }],
        });
        assert.equal(run.succeeded, false, run.logs);
        assert.match(run.logs, /certificate verify failed/);
      } finally {
        await kubectl(["delete", "configmap", "other-ca"]);
      }
    },
  );

  await t.step("scale 3 → 1 → 3: the standbys come back with every row", async () => {
    await scale(1);
    await ready(1);
    await psql(plane, "INSERT INTO rows SELECT generate_series(2, 100)", { secret: SECRET });
    await scale(3);
    await ready(3);
    await onStandby(1, "SELECT count(*) FROM rows", "100");
    await onStandby(2, "SELECT count(*) FROM rows", "100");
  });

  await t.step(
    "the primary's pod is deleted: it returns, standbys stream again, nothing lost",
    async () => {
      await kubectl(["delete", "pod", "valid-db-0"]);
      await ready(3);
      assert.equal(await psql(plane, "SELECT count(*) FROM rows", { secret: SECRET }), "100");
      await psql(plane, "INSERT INTO rows VALUES (101)", { secret: SECRET });
      await onStandby(1, "SELECT max(id) FROM rows", "101");
      await onStandby(2, "SELECT max(id) FROM rows", "101");
    },
  );

  await t.step("back to replicas 1: no read-only Service is left", async () => {
    await scale(1);
    await ready(1);
    await eventually(
      async () => (await plane.kubectl(["get", "service", "valid-db-ro"])).code !== 0,
      "valid-db-ro removed",
    );
  });
});
