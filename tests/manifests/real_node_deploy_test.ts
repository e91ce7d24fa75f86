/**
 * manifests/default on the real node: the operator image runs as two real pods under the
 * manifests' securityContext, one of them leads, it runs real PostgreSQL for valid-db, and the
 * course's Task 4.3 metrics flow works verbatim (port-forward, token, curl).
 */
import assert from "node:assert/strict";
import { DEFAULT_OLD_SPACE_MIB } from "../../tools/compile.ts";
import type { Lease } from "../../src/runtime/leader_election/mod.ts";
import { binaryPath, ControlPlane, eventually } from "../../tools/testenv/mod.ts";
import { forwarding, mustKubectl, psql, realNodeTest } from "../_support/real_node.ts";
import { createDatabase } from "../_support/databases.ts";

const MANIFESTS = new URL("../../manifests/", import.meta.url).pathname;
const NS = "postgres-operator-system";
const DEPLOYMENT = "postgres-operator-controller-manager";

realNodeTest(
  "manifests/default runs the operator image as real pods; Task 4.3 works verbatim",
  async (t) => {
    await using plane = await ControlPlane.start({
      mode: "cluster",
      realNode: true,
      images: ["postgres:17", "operator"],
    });
    const kubectl = mustKubectl(plane);

    await t.step("two replicas become Ready under the manifests' securityContext", async () => {
      await kubectl(["apply", "-k", `${MANIFESTS}default`]);
      await kubectl(["rollout", "status", `deployment/${DEPLOYMENT}`, "-n", NS, "--timeout=180s"]);
      const pods = JSON.parse(
        await kubectl([
          "get",
          "pods",
          "-n",
          NS,
          "-l",
          "control-plane=controller-manager",
          "-o",
          "json",
        ]),
      ).items as { spec: { containers: { securityContext: Record<string, unknown> }[] } }[];
      assert.equal(pods.length, 2);
      for (const pod of pods) {
        assert.equal(pod.spec.containers[0]!.securityContext.readOnlyRootFilesystem, true);
      }
      // The heap limit the shipped binary is compiled with, under the manifests' 256Mi limit.
      const log = await kubectl(["logs", "-n", NS, `deployment/${DEPLOYMENT}`]);
      const line = log.split("\n").find((l) => l.includes("Memory limits")) ?? "";
      const heap = Number(line.match(/heapLimitMiB\W+(\d+)/)?.[1]);
      assert.ok(heap >= DEFAULT_OLD_SPACE_MIB && heap <= DEFAULT_OLD_SPACE_MIB + 96, line);
      // The harness's cgroup v1 nodes may not show the container its limit ("none"); where
      // it shows one, it is the manifests' 256Mi.
      assert.match(line, /containerLimitMiB\W+(256\b|none)/);
      assert.doesNotMatch(log, /heap limit is above|DENO_V8_FLAGS asks/);
    });

    await t.step("exactly one of them holds the Lease", async () => {
      const names = (await kubectl([
        "get",
        "pods",
        "-n",
        NS,
        "-l",
        "control-plane=controller-manager",
        "-o",
        "jsonpath={.items[*].metadata.name}",
      ])).split(" ");
      let holder = "";
      await eventually(
        async () => {
          const lease = await plane.client.request<Lease>(
            "GET",
            `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/postgres-operator.example.com`,
          ).catch(() => undefined);
          holder = lease?.spec?.holderIdentity ?? "";
          return holder !== "";
        },
        "a leader is elected",
        { timeoutMs: 60_000 },
      );
      assert.equal(names.filter((name) => holder.startsWith(`${name}_`)).length, 1);
    });

    await t.step("the in-cluster operator runs valid-db as real PostgreSQL", async () => {
      await createDatabase(plane.client, "default", "valid-db");
      await kubectl(["wait", "--for=condition=Ready", "database/valid-db", "--timeout=180s"]);
      const out = await psql(plane, "SELECT current_database()", {
        secret: "valid-db-credentials",
      });
      assert.equal(out, "mydb");
    });

    await t.step("Task 4.3: port-forward, create token, curl /metrics", async () => {
      await kubectl([
        "create",
        "clusterrolebinding",
        "metrics-reader-binding",
        "--clusterrole=postgres-operator-metrics-reader",
        `--serviceaccount=${NS}:${DEPLOYMENT}`,
      ]);
      const forward = new Deno.Command(await binaryPath("kubectl"), {
        args: [
          `--kubeconfig=${plane.kubeconfigPath}`,
          "port-forward",
          "-n",
          NS,
          "svc/postgres-operator-controller-manager-metrics-service",
          "8443:8443",
        ],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      try {
        await forwarding(forward);
        const token = (await kubectl(["create", "token", DEPLOYMENT, "-n", NS])).trim();
        const curl = await new Deno.Command("curl", {
          args: ["-sk", "-H", `Authorization: Bearer ${token}`, "https://localhost:8443/metrics"],
          stdout: "piped",
        }).output();
        const metrics = new TextDecoder().decode(curl.stdout);
        assert.match(metrics, /^database_/m);
        assert.match(metrics, /^controller_runtime_/m);
      } finally {
        forward.kill("SIGTERM");
        await forward.status;
        await forward.stderr.cancel().catch(() => {});
      }
    });
  },
);
