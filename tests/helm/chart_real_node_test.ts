/**
 * The Helm chart on the real node: `helm install` runs the operator image as real pods (both
 * replicas Ready under the chart's securityContext and probes), and that operator runs the
 * course's valid-db as real PostgreSQL a client logs in to.
 */
import { binaryPath, ControlPlane } from "../../tools/testenv/mod.ts";
import assert from "node:assert/strict";
import { mustKubectl, psql, realNodeTest } from "../_support/real_node.ts";
import { createDatabase } from "../_support/databases.ts";

const CHART = new URL("../../charts/postgres-operator", import.meta.url).pathname;
const NS = "postgres-operator-system";

realNodeTest(
  "helm install runs the operator as real pods, which run real PostgreSQL",
  async (t) => {
    await using plane = await ControlPlane.start({
      mode: "cluster",
      realNode: true,
      installCRDs: false,
      images: ["postgres:17", "operator"],
    });
    const kubectl = mustKubectl(plane);
    const helm = async (args: string[]) => {
      const out = await new Deno.Command(await binaryPath("helm"), {
        args: [...args, `--kubeconfig=${plane.kubeconfigPath}`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = (b: Uint8Array) => new TextDecoder().decode(b);
      assert.equal(out.code, 0, `helm ${args.join(" ")}: ${text(out.stderr)}`);
      return text(out.stdout);
    };

    await t.step("helm install: both replicas become Ready", async () => {
      await helm(["install", "postgres-operator", CHART, "-n", NS, "--create-namespace"]);
      await kubectl([
        "rollout",
        "status",
        "deployment/postgres-operator-controller-manager",
        "-n",
        NS,
        "--timeout=180s",
      ]);
      const ready = await kubectl([
        "get",
        "deployment/postgres-operator-controller-manager",
        "-n",
        NS,
        "-o",
        "jsonpath={.status.readyReplicas}",
      ]);
      assert.equal(ready, "2");
    });

    await t.step("the chart's operator runs valid-db; psql logs in with its Secret", async () => {
      await kubectl(["wait", "--for=condition=Established", "crd/databases.database.example.com"]);
      await createDatabase(plane.client, "default", "valid-db");
      await kubectl(["wait", "--for=condition=Ready", "database/valid-db", "--timeout=180s"]);
      assert.equal(
        await psql(plane, "SELECT current_database()", { secret: "valid-db-credentials" }),
        "mydb",
      );
    });

    await t.step("helm uninstall removes the operator's pods", async () => {
      await helm(["uninstall", "postgres-operator", "-n", NS, "--wait"]);
      await kubectl([
        "wait",
        "--for=delete",
        "pod",
        "-l",
        "control-plane=controller-manager",
        "-n",
        NS,
        "--timeout=120s",
      ]);
    });
  },
);
