import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { parseFlags } from "../../src/cli/flags.ts";
import { binaryPath, ControlPlane, eventually } from "../../tools/testenv/mod.ts";
import { scrape, servedCertificate, total } from "../runtime/metrics_helpers.ts";
import { startInClusterOperator } from "./in_cluster_operator.ts";
import {
  LEADER_ELECTION_ROLE,
  MANAGER_ROLE,
  METRICS_AUTH_ROLE,
  type Rule,
  tableOf,
  wildcards,
} from "./rbac_table.ts";
import { Cluster, type Obj } from "./cluster.ts";
import { objectPath } from "../../src/runtime/client/mod.ts";
import { DATABASE_RESOURCE } from "../../src/database/api/types.ts";

const MANIFESTS = new URL("../../manifests/", import.meta.url).pathname;
const SHIP = new URL("../../tools/ship.ts", import.meta.url).pathname;
const NS = "postgres-operator-system";
const SA = "postgres-operator-controller-manager";
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function kustomize(dir: string): Promise<Obj[]> {
  const out = await new Deno.Command(await binaryPath("kubectl"), {
    args: ["kustomize", `${MANIFESTS}${dir}`],
  }).output();
  assert.ok(out.success, decode(out.stderr));
  return parseAllDocuments(decode(out.stdout)).map((doc) => doc.toJS() as Obj);
}

function find(objects: Obj[], kind: string, name: string): Obj {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind} ${name} in ${objects.map((o) => o.metadata.name).join(", ")}`);
  return found;
}

Deno.test("manifests/default has the course's names and RBAC that grants exactly what the code uses", async () => {
  const objects = await kustomize("default");
  assert.equal(find(objects, "ServiceAccount", SA).metadata.namespace, NS);
  find(objects, "Namespace", NS);
  find(objects, "PodDisruptionBudget", SA);
  find(objects, "NetworkPolicy", "postgres-operator-allow-metrics-traffic");
  const service = find(objects, "Service", `${SA}-metrics-service`);
  assert.deepEqual(service.spec.ports.map((p: { port: number }) => p.port), [8443]);
  const deployment = find(objects, "Deployment", SA);
  assert.equal(deployment.metadata.namespace, NS);
  assert.equal(deployment.spec.replicas, 2);
  const pod = deployment.spec.template.spec;
  assert.equal(pod.serviceAccountName, SA);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
  const [manager] = pod.containers;
  assert.equal(manager.image, "postgres-operator:latest");
  assert.deepEqual(manager.securityContext.capabilities.drop, ["ALL"]);
  assert.equal(manager.securityContext.readOnlyRootFilesystem, true);
  // The Deployment's flags must parse, and elect on the course's Lease name.
  const flags = parseFlags(manager.args);
  assert.equal(flags.leaderElect, true);
  assert.equal(flags.leaderElectionId, "postgres-operator.example.com");
  assert.equal(objects.filter((o) => o.kind === "ServiceMonitor").length, 0, "optional");
  find(await kustomize("prometheus"), "ServiceMonitor", "controller-manager-metrics-monitor");

  const rules = (kind: string, name: string) => find(objects, kind, name).rules as Rule[];
  assert.deepEqual(tableOf(rules("ClusterRole", "postgres-operator-manager-role")), MANAGER_ROLE);
  assert.deepEqual(
    tableOf(rules("Role", "postgres-operator-leader-election-role")),
    LEADER_ELECTION_ROLE,
  );
  assert.deepEqual(
    tableOf(rules("ClusterRole", "postgres-operator-metrics-auth-role")),
    METRICS_AUTH_ROLE,
  );
  for (const role of objects.filter((o) => o.kind === "Role" || o.kind === "ClusterRole")) {
    assert.deepEqual(wildcards(role.rules), [], role.metadata.name);
  }
  for (const binding of objects.filter((o) => o.kind.endsWith("Binding"))) {
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: SA, namespace: NS }]);
  }
  for await (const file of Deno.readDir(`${MANIFESTS}rbac`)) {
    const text = await Deno.readTextFile(`${MANIFESTS}rbac/${file.name}`);
    const code = text.split("\n").filter((line) => !line.trim().startsWith("#"));
    assert.ok(!code.some((line) => line.includes("*")), `no wildcard in rbac/${file.name}`);
  }
});

Deno.test("manifests/default deploys, and the operator converges Databases as its ServiceAccount", async (t) => {
  // OwnerReferencesPermissionEnforcement is the strictest common setting (OpenShift turns it on):
  // it makes the blockOwnerDeletion of owned objects need update on databases/finalizers.
  await using plane = await ControlPlane.start({
    installCRDs: false,
    apiServerArgs: ["--enable-admission-plugins=OwnerReferencesPermissionEnforcement"],
  });
  const cluster = new Cluster(plane.client);

  await t.step("deno task deploy applies manifests/default with the built kubectl", async () => {
    const kubectlDir = (await binaryPath("kubectl")).replace(/\/[^/]+$/, "");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", SHIP, "deploy"],
      env: { PATH: kubectlDir, KUBECONFIG: plane.kubeconfigPath },
    }).output();
    assert.equal(out.code, 0, decode(out.stderr));
    assert.equal(decode(out.stderr), "");
    for (
      const created of [
        `namespace/${NS}`,
        "customresourcedefinition.apiextensions.k8s.io/databases.database.example.com",
        `serviceaccount/${SA}`,
        `deployment.apps/${SA}`,
        `service/${SA}-metrics-service`,
      ]
    ) {
      assert.match(decode(out.stdout), new RegExp(`^${created} created$`, "m"));
    }
    const wait = await plane.kubectl(
      [
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/databases.database.example.com",
      ],
    );
    assert.equal(wait.code, 0, wait.stderr);
  });

  await t.step("kubectl apply -k manifests/default --dry-run=server is clean", async () => {
    // Only after the first apply: a dry run creates nothing, so before it the namespaced
    // objects would be refused for want of their namespace.
    const out = await plane.kubectl(["apply", "-k", `${MANIFESTS}default`, "--dry-run=server"]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stderr, "", "no warnings under strict field validation");
    assert.doesNotMatch(out.stdout, / created /);
  });

  const token = await plane.kubectl(["create", "token", SA, "-n", NS]);
  assert.equal(token.code, 0, token.stderr);
  await using operator = await startInClusterOperator({
    server: plane.server,
    token: token.stdout.trim(),
    caPem: plane.connection.caPem!,
    namespace: NS,
    podName: `${SA}-test`,
    logDir: plane.dir,
    args: ["--leader-elect", `--leader-election-namespace=${NS}`],
  });
  const log = () => Deno.readTextFileSync(operator.process.logPath);

  await t.step("it connects in-cluster and takes the Lease", async () => {
    await operator.ready();
    const connected = log().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
      .find((entry) => entry.msg === "Connected");
    assert.equal(connected?.source, "in-cluster");
    await eventually(async () => {
      const lease = await cluster.lease(NS, "postgres-operator.example.com");
      return lease?.spec?.holderIdentity?.startsWith(`${SA}-test_`) === true;
    }, "the operator holds the Lease");
  });

  const ns = "shop";
  await t.step("Databases converge: Secret, Service, StatefulSet, status, Events", async () => {
    await cluster.createNamespace(ns);
    await cluster.createDatabase(ns, "valid-db");
    await cluster.converged(ns, "valid-db");
    const events = await cluster.events(ns);
    assert.ok(
      events.some((e) => e.regarding.name === "valid-db" && e.reason === "Created"),
      JSON.stringify(events.map((e) => [e.regarding.name, e.reason])),
    );
  });

  await t.step("a Secret that left the cache is read back, and keeps its password", async () => {
    const before = await cluster.secret(ns, "valid-db-credentials");
    // Without the label the cache drops it: the operator's create gets a 409, and it must GET
    // the Secret to put the label back without replacing the password.
    await cluster.unlabelSecret(ns, "valid-db-credentials", "app.kubernetes.io/managed-by");
    await eventually(async () => {
      const after = await cluster.secret(ns, "valid-db-credentials");
      return after.metadata.labels?.["app.kubernetes.io/managed-by"] === "postgres-operator";
    }, "the label is back");
    const after = await cluster.secret(ns, "valid-db-credentials");
    assert.equal(after.data.password, before.data.password);
  });

  await t.step("a Database with the old course finalizer is released on delete", async () => {
    await cluster.createDatabase(ns, "old", { finalizers: ["database.example.com/finalizer"] });
    await cluster.converged(ns, "old");
    await cluster.deleteDatabase(ns, "old");
    await eventually(async () => !(await cluster.database(ns, "old")), "old is gone");
  });

  await t.step("growing storage resizes the PVCs where the StorageClass allows it", async () => {
    await cluster.createStorageClass("expandable");
    await cluster.createDatabase(ns, "growing", {}, { size: "1Gi", storageClass: "expandable" });
    await cluster.converged(ns, "growing");
    // No StatefulSet controller in apiserver mode: make the claim it would have made.
    await cluster.createBoundClaim(ns, "data-growing-0", "growing", "expandable", "1Gi");
    await cluster.setStorageSize(ns, "growing", "2Gi");
    await eventually(
      async () => (await cluster.claimSize(ns, "data-growing-0")) === "2Gi",
      "the PVC asks for 2Gi",
    );
  });

  await t.step("a scale-up after growth creates the new claim at the grown size", async () => {
    await cluster.client.request("PATCH", objectPath(DATABASE_RESOURCE, ns, "growing"), {
      body: { spec: { replicas: 2 } },
      contentType: "application/merge-patch+json",
    });
    await eventually(
      async () => (await cluster.claimSize(ns, "data-growing-1")) === "2Gi",
      "the operator made data-growing-1 with 2Gi",
    );
  });

  const scraper = await cluster.metricsReaderToken(plane, ns, "scraper");
  const http = Deno.createHttpClient({ caCerts: [await servedCertificate(operator.metricsPort)] });
  const metrics = async () => {
    const { status, body } = await scrape(
      `https://127.0.0.1:${operator.metricsPort}/metrics`,
      http,
      scraper,
    );
    assert.equal(status, 200, body);
    return body;
  };
  try {
    await t.step(
      "metrics are served to a metrics-reader token; nothing was forbidden",
      async () => {
        const body = await metrics();
        assert.ok(total(body, "database_reconcile_total", { result: "success" }) > 0);
        assert.equal(total(body, "leader_election_master_status"), 1);
        assert.ok(total(body, "rest_client_requests_total") > 0);
        assert.equal(total(body, "rest_client_requests_total", { code: "403" }), 0);
        assert.equal(total(body, "rest_client_requests_total", { code: "401" }), 0);
        assert.doesNotMatch(log(), /forbidden/i);
      },
    );

    await t.step(
      "a permission taken away shows up as 403s (the check above can fail)",
      async () => {
        await cluster.revokeVerb("postgres-operator-manager-role", "services", "create");
        await cluster.createDatabase(ns, "denied");
        await eventually(
          async () => total(await metrics(), "rest_client_requests_total", { code: "403" }) > 0,
          "a 403 is counted",
        );
        await eventually(() => /forbidden/i.test(log()), "the operator logs the 403");
      },
    );
  } finally {
    http.close();
  }
});
