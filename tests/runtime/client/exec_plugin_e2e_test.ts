/**
 * End to end: the operator, run as `deno task start` runs it (permission set operator-local),
 * authenticates through an exec plugin that mints short-lived ServiceAccount tokens from the
 * local control plane, and keeps reconciling through two expiries without an error.
 */
import assert from "node:assert/strict";
import { ControlPlane, eventually, freePorts, ManagedProcess } from "../../../tools/testenv/mod.ts";
import { waitUntilReady } from "../../../tools/testenv/operator.ts";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import { ApiError } from "../../../src/runtime/client/api_error.ts";
import { createDatabase } from "../../_support/databases.ts";
import { createNamespace } from "../../_support/cluster.ts";

const MAIN = new URL("../../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../../deno.json", import.meta.url).pathname;
const PLUGIN = new URL("./token_request_plugin.ts", import.meta.url).pathname;
/** Long enough for a start-up and a reconcile on a busy machine; short enough for the test. */
const LIFETIME_SECONDS = 10;

interface PluginRun {
  expires: string;
  binding: string;
  interactive: boolean;
  token: string;
}

Deno.test("the operator keeps working through two expiries of exec-plugin tokens minted by TokenRequest", async () => {
  await using plane = await ControlPlane.start();
  const client = plane.client;
  const ns = await createNamespace(client, "exec-plugin");
  await client.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, {
    body: { metadata: { name: "operator" } },
  });
  const binding = await client.request<{ metadata: { name: string } }>(
    "POST",
    "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
    {
      body: {
        metadata: { generateName: "exec-plugin-operator-" },
        roleRef: {
          apiGroup: "rbac.authorization.k8s.io",
          kind: "ClusterRole",
          name: "cluster-admin",
        },
        subjects: [{ kind: "ServiceAccount", name: "operator", namespace: ns }],
      },
    },
  );
  const pluginLog = `${plane.dir}/plugin.log`;
  const wrapper = `${plane.dir}/token-plugin`;
  await Deno.writeTextFile(
    wrapper,
    `#!/bin/sh\nexec "${Deno.execPath()}" run --quiet -A --config="${CONFIG}" "${PLUGIN}"\n`,
  );
  await Deno.chmod(wrapper, 0o755);
  const kubeconfig = `${plane.dir}/exec-kubeconfig`;
  await Deno.writeTextFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "exec",
      clusters: [{
        name: "local",
        cluster: {
          server: plane.connection.server,
          "certificate-authority-data": btoa(plane.connection.caPem!),
        },
      }],
      users: [{
        name: "plugin",
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: wrapper,
            interactiveMode: "Never",
            env: [
              { name: "PLUGIN_ADMIN_KUBECONFIG", value: plane.kubeconfigPath },
              { name: "PLUGIN_NAMESPACE", value: ns },
              { name: "PLUGIN_SERVICE_ACCOUNT", value: "operator" },
              { name: "PLUGIN_LIFETIME_SECONDS", value: String(LIFETIME_SECONDS) },
              { name: "PLUGIN_LOG", value: pluginLog },
            ],
          },
        },
      }],
      contexts: [{ name: "exec", context: { cluster: "local", user: "plugin", namespace: ns } }],
    }),
  );
  const runs = async (): Promise<PluginRun[]> => {
    try {
      const text = await Deno.readTextFile(pluginLog);
      return text.trim().split("\n").map((line) => JSON.parse(line));
    } catch {
      return [];
    }
  };

  const [healthPort = 0] = await freePorts(1);
  const operator = ManagedProcess.start({
    name: "exec-operator",
    command: Deno.execPath(),
    args: [
      "run",
      `--config=${CONFIG}`,
      "-P=operator-local",
      MAIN,
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${ns}`,
      `--health-probe-bind-address=127.0.0.1:${healthPort}`,
      "--metrics-bind-address=0",
      "--zap-encoder=json",
    ],
    logDir: plane.dir,
    env: { NO_COLOR: "1" },
  });
  try {
    await waitUntilReady(operator, healthPort, 60_000);
    // One run serves every request of the start-up (unless the start-up outlived the credential).
    assert.ok((await runs()).length >= 1);
    for (const round of [1, 2]) {
      const before = (await runs()).length;
      const current = (await runs()).at(-1)!;
      // Wait out the credential's announced lifetime: the condition under test.
      await eventually(() => Date.now() > Date.parse(current.expires), "the credential expired", {
        timeoutMs: (LIFETIME_SECONDS + 5) * 1000,
      });
      await createDatabase(client, ns, `after-expiry-${round}`);
      await eventually(
        async () =>
          (await client.request<{ items: unknown[] }>(
            "GET",
            `/api/v1/namespaces/${ns}/services`,
            { query: { fieldSelector: `metadata.name=after-expiry-${round}` } },
          )).items.length === 1,
        `the operator reconciled after-expiry-${round} with a renewed token`,
        { timeoutMs: 30_000, describe: () => operator.tail(10) },
      );
      assert.equal((await runs()).length, before + 1, "the plugin ran once for this expiry");
    }
    const all = await runs();
    assert.ok(all.every((run) => run.interactive === false));
    // The expiries were real: the first token is revoked, the newest works.
    const status = async (token: string) => {
      const { server, caPem, namespace } = plane.connection;
      const probe = new KubeClient({ server, caPem: caPem!, namespace, source: "probe", token });
      try {
        await probe.request("GET", `/api/v1/namespaces/${ns}/serviceaccounts`);
        return 200;
      } catch (error) {
        return error instanceof ApiError ? error.code : -1;
      } finally {
        probe.close();
      }
    };
    assert.equal(await status(all[0]!.token), 401);
    assert.equal(await status(all.at(-1)!.token), 200);
    assert.ok(!operator.exited);
  } finally {
    const status = await operator.stop(10_000);
    assert.equal(status.code, 0, operator.tail(20));
    await client.request(
      "DELETE",
      `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${binding.metadata.name}`,
    );
  }
  const log = (await Deno.readTextFile(operator.logPath)).trim().split("\n")
    .filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
  assert.deepEqual(log.filter((entry) => entry.level === "error"), []);
  const created = log.find((entry) => entry.msg === "Created");
  assert.ok(created, "the reconciler logged what it created");
  assert.equal(created.controller, "database");
  assert.equal(created.controllerGroup, "database.example.com");
  assert.equal(created.controllerKind, "Database");
  assert.deepEqual(created.Database, { name: created.database, namespace: ns });
  assert.match(created.reconcileID, /^[0-9a-f-]{36}$/);
});
