import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { parseFlags } from "../../src/cli/flags.ts";
import { CHART } from "../../tools/helm.ts";
import { binaryPath, ControlPlane } from "../../tools/testenv/mod.ts";
import { Cluster, type Obj } from "../manifests/cluster.ts";
import { startInClusterOperator } from "../manifests/in_cluster_operator.ts";

const MANIFESTS = new URL("../../manifests/", import.meta.url).pathname;
const NON_DEFAULT = new URL("./values_non_default.yaml", import.meta.url).pathname;
const NS = "postgres-operator-system";
const SA = "postgres-operator-controller-manager";
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
/** What Helm says on stderr because the chart's `files` links to manifests/. */
const SYMLINK_NOTE = /^walk\.go:\d+: found symbolic link in path: .*\n/gm;

async function run(command: string, args: string[]) {
  const out = await new Deno.Command(command, { args }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function helm(...args: string[]) {
  return run(await binaryPath("helm"), args);
}

/** `helm template` of the chart in the operator's namespace, as objects. */
async function template(...args: string[]): Promise<{ yaml: string; objects: Obj[] }> {
  const out = await helm("template", "postgres-operator", CHART, "-n", NS, ...args);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stderr.replace(SYMLINK_NOTE, ""), "", "no warnings");
  const objects = parseAllDocuments(out.stdout).map((doc) => doc.toJS() as Obj)
    .filter((o) => o !== null);
  return { yaml: out.stdout, objects };
}

async function kustomize(dir: string): Promise<Obj[]> {
  const out = await run(await binaryPath("kubectl"), ["kustomize", `${MANIFESTS}${dir}`]);
  assert.equal(out.code, 0, out.stderr);
  return parseAllDocuments(out.stdout).map((doc) => doc.toJS() as Obj);
}

const key = (o: Obj) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const HELM_ONLY_LABELS = [
  "app.kubernetes.io/managed-by",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/version",
  "helm.sh/chart",
];

/** An object without what only Helm or only kustomize adds (labels, the keep annotation). */
function comparable(o: Obj): Obj {
  const copy = structuredClone(o);
  for (const label of HELM_ONLY_LABELS) delete copy.metadata.labels?.[label];
  if (copy.metadata.labels && Object.keys(copy.metadata.labels).length === 0) {
    delete copy.metadata.labels;
  }
  delete copy.metadata.annotations?.["helm.sh/resource-policy"];
  if (copy.metadata.annotations && Object.keys(copy.metadata.annotations).length === 0) {
    delete copy.metadata.annotations;
  }
  return copy;
}

function find(objects: Obj[], kind: string, name: string): Obj {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind} ${name} in ${objects.map(key).join(", ")}`);
  return found;
}

Deno.test("The chart's defaults render exactly manifests/default (but the Namespace)", async () => {
  const { objects: chart } = await template();
  const kustomized = (await kustomize("default")).filter((o) => o.kind !== "Namespace");
  assert.deepEqual(chart.map(key).sort(), kustomized.map(key).sort());
  for (const expected of kustomized) {
    const rendered = chart.find((o) => key(o) === key(expected))!;
    assert.deepEqual(comparable(rendered), comparable(expected), key(expected));
  }
  for (const o of chart) {
    assert.equal(o.metadata.labels?.["app.kubernetes.io/managed-by"], "Helm", key(o));
  }
  const crd = find(chart, "CustomResourceDefinition", "databases.database.example.com");
  assert.equal(crd.metadata.annotations?.["helm.sh/resource-policy"], "keep");
});

Deno.test("helm lint --strict passes with default and non-default values", async () => {
  for (const args of [[], ["-f", NON_DEFAULT]]) {
    const out = await helm("lint", "--strict", CHART, ...args);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

Deno.test("The chart refuses several replicas without leader election", async () => {
  const out = await helm(
    "template",
    "x",
    CHART,
    "--set",
    "replicas=2",
    "--set",
    "leaderElection.enabled=false",
  );
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /replicas > 1 needs leaderElection\.enabled/);
});

/** The DENO_V8_FLAGS the manager container gets, if any. */
function v8Flags(container: Obj): string | undefined {
  return (container.env as Obj[]).find((e) => e.name === "DENO_V8_FLAGS")?.value;
}

Deno.test("The memory limit is checked against the image's compiled-in V8 old space, and no DENO_V8_FLAGS (which a compiled binary ignores) is set", async () => {
  const manager = async (...args: string[]) => {
    const { objects } = await template(...args);
    return find(objects, "Deployment", SA).spec.template.spec.containers[0];
  };
  assert.equal(v8Flags(await manager()), undefined);
  assert.equal(
    (await manager("--set", "resources.limits.memory=2Gi")).resources.limits.memory,
    "2Gi",
  );
  assert.equal(v8Flags(await manager("--set", "resources.limits=null")), undefined);
  // 1/2 of 400000000 bytes is 190 MiB: enough for a 190 MiB old space, not for 191.
  await manager("--set", "resources.limits.memory=400000000", "--set", "image.maxOldSpaceMiB=190");
  for (
    const [args, message] of [
      [["resources.limits.memory=200Mi"], /less than twice .*128 MiB.*256Mi or more/],
      [
        ["resources.limits.memory=400000000", "image.maxOldSpaceMiB=191"],
        /MAX_OLD_SPACE_MIB/,
      ],
      [["resources.limits.memory=1.5Gi"], /resources\.limits\.memory 1\.5Gi: write a whole/],
    ] as const
  ) {
    const out = await helm("template", "x", CHART, ...args.flatMap((a) => ["--set", a]));
    assert.notEqual(out.code, 0, args.join(" "));
    assert.match(out.stderr, message);
  }
});

Deno.test("Non-default values: image, replicas, resources, leader election, metrics, monitoring, network policy, one namespace", async () => {
  const { objects } = await template("-f", NON_DEFAULT);
  const deployment = find(objects, "Deployment", SA);
  assert.equal(deployment.spec.replicas, 3);
  const [manager] = deployment.spec.template.spec.containers;
  assert.equal(manager.image, "registry.example.com/team/postgres-operator:v1.2.3");
  assert.equal(manager.imagePullPolicy, "Always");
  assert.deepEqual(manager.resources, {
    requests: { cpu: "50m", memory: "128Mi" },
    limits: { cpu: "1", memory: "512Mi" },
  });
  assert.equal(v8Flags(manager), undefined, "the image's binary has its V8 flags compiled in");
  const flags = parseFlags(manager.args);
  assert.equal(flags.leaderElect, true);
  assert.equal(flags.leaderElectionId, "databases.example.org");
  assert.equal(flags.metricsSecure, false);
  assert.equal(flags.namespace, "databases");
  assert.equal(flags.maxConcurrentReconciles, 4);
  assert.deepEqual(manager.ports.map((p: Obj) => p.name), ["http", "health"]);

  // One namespace: manager-role bound there, not cluster-wide; StorageClasses read cluster-wide.
  const binding = find(objects, "RoleBinding", "postgres-operator-manager-rolebinding");
  assert.equal(binding.metadata.namespace, "databases");
  assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: SA, namespace: NS }]);
  assert.ok(
    !objects.some((o) =>
      o.kind === "ClusterRoleBinding" && o.roleRef.name.endsWith("manager-role")
    ),
  );
  find(objects, "ClusterRoleBinding", "postgres-operator-storageclass-reader");
  // Plain HTTP metrics: no review roles, a ServiceMonitor scraping http, no NetworkPolicy.
  assert.ok(!objects.some((o) => o.metadata.name?.includes("metrics-auth")));
  assert.ok(!objects.some((o) => o.kind === "NetworkPolicy"));
  const monitor = find(
    objects,
    "ServiceMonitor",
    "postgres-operator-controller-manager-metrics-monitor",
  );
  assert.deepEqual(monitor.spec.endpoints, [{ path: "/metrics", port: "http", scheme: "http" }]);
  const service = find(objects, "Service", `${SA}-metrics-service`);
  assert.deepEqual(service.spec.ports, [{
    name: "http",
    port: 8080,
    protocol: "TCP",
    targetPort: 8080,
  }]);
  // Alerts and dashboard, the same as the kustomize components.
  const rule = find(objects, "PrometheusRule", "postgres-operator-alerts");
  assert.equal(rule.spec.groups[0].rules.length, 7);
  const dashboard = find(objects, "ConfigMap", "postgres-operator-grafana-dashboard");
  assert.equal(dashboard.metadata.labels?.grafana_dashboard, "1");
  assert.deepEqual(
    JSON.parse(dashboard.data["postgres-operator.json"]),
    JSON.parse(await Deno.readTextFile(`${MANIFESTS}dashboards/postgres-operator.json`)),
  );
  assert.ok(!objects.some((o) => o.kind === "PodDisruptionBudget"));
  assert.ok(!objects.some((o) => o.metadata.name?.startsWith("postgres-operator-database-")));
});

Deno.test("One replica without leader election or metrics: no Lease flag, metrics off, no Service", async () => {
  const { objects } = await template(
    "--set",
    "replicas=1",
    "--set",
    "leaderElection.enabled=false",
    "--set",
    "metrics.enabled=false",
    "--set",
    "serviceMonitor.enabled=true",
    "--set",
    "crd.enable=false",
  );
  const [manager] = find(objects, "Deployment", SA).spec.template.spec.containers;
  const flags = parseFlags(manager.args);
  assert.equal(flags.leaderElect, false);
  assert.ok(manager.args.includes("--metrics-bind-address=0"), manager.args.join(" "));
  assert.deepEqual(manager.ports.map((p: Obj) => p.name), ["health"]);
  for (const kind of ["Service", "NetworkPolicy", "ServiceMonitor", "CustomResourceDefinition"]) {
    assert.ok(!objects.some((o) => o.kind === kind), kind);
  }
  assert.ok(!objects.some((o) => o.metadata.name?.includes("metrics")));
});

/** The Prometheus Operator's two kinds, as CRDs that accept any spec: enough to apply them. */
function monitoringCrd(kind: string, plural: string): string {
  return JSON.stringify({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: "monitoring.coreos.com",
      scope: "Namespaced",
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      }],
    },
  });
}

Deno.test("The rendered chart applies server-side, and the operator runs from it as its ServiceAccount", async (t) => {
  await using plane = await ControlPlane.start({ installCRDs: false });
  const cluster = new Cluster(plane.client);
  const kubectl = async (args: string[], stdin?: string) => {
    const out = await plane.kubectl(args, stdin);
    assert.equal(out.code, 0, `kubectl ${args.join(" ")}: ${out.stderr}`);
    return out.stdout;
  };
  for (const ns of [NS, "databases", "other"]) await kubectl(["create", "namespace", ns]);
  for (
    const [kind, plural] of [["ServiceMonitor", "servicemonitors"], [
      "PrometheusRule",
      "prometheusrules",
    ]]
  ) {
    await kubectl(["apply", "--server-side", "-f", "-"], monitoringCrd(kind!, plural!));
  }
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"]);

  await t.step("default values apply server-side, with no warning", async () => {
    const { yaml } = await template();
    const out = await plane.kubectl(
      ["apply", "--server-side", "--field-manager=helm", "-f", "-"],
      yaml,
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stderr, "");
    assert.match(out.stdout, new RegExp(`^deployment.apps/${SA} serverside-applied$`, "m"));
    await kubectl([
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      "crd/databases.database.example.com",
    ]);
  });

  const { yaml, objects } = await template("-f", NON_DEFAULT);
  await t.step("non-default values apply server-side over them", async () => {
    // As helm upgrade: what the new values no longer render is deleted (the cluster-wide
    // binding, the review roles, the PDB, the NetworkPolicy, the users' roles).
    const before = (await template()).objects;
    const gone = before.filter((o) => !objects.some((n) => key(n) === key(o)));
    assert.ok(
      gone.some((o) => o.kind === "ClusterRoleBinding" && o.roleRef.name.endsWith("manager-role")),
    );
    for (const o of gone) {
      const scope = o.metadata.namespace ? ["-n", o.metadata.namespace] : [];
      await kubectl(["delete", o.kind, o.metadata.name!, ...scope]);
    }
    const out = await plane.kubectl(
      ["apply", "--server-side", "--field-manager=helm", "--force-conflicts", "-f", "-"],
      yaml,
    );
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout,
      /^prometheusrule.monitoring.coreos.com\/postgres-operator-alerts serverside-applied$/m,
    );
    assert.match(out.stdout, /^servicemonitor.monitoring.coreos.com\/\S+ serverside-applied$/m);
    assert.match(
      out.stdout,
      /^rolebinding.rbac.authorization.k8s.io\/postgres-operator-manager-rolebinding serverside-applied$/m,
    );
  });

  const deployment = find(objects, "Deployment", SA);
  const args = (deployment.spec.template.spec.containers[0].args as string[])
    .filter((arg) => !/^--(health-probe|metrics)-bind-address=/.test(arg));
  const token = (await kubectl(["create", "token", SA, "-n", NS])).trim();
  await using operator = await startInClusterOperator({
    server: plane.server,
    token,
    caPem: plane.connection.caPem!,
    namespace: NS,
    podName: `${SA}-test`,
    logDir: plane.dir,
    args,
  });
  const log = () => Deno.readTextFileSync(operator.process.logPath);

  await t.step(
    "with the chart's flags it takes its Lease and converges Databases in its namespace",
    async () => {
      await operator.ready();
      await cluster.createDatabase("databases", "valid-db");
      await cluster.converged("databases", "valid-db");
      const lease = await cluster.lease(NS, "databases.example.org");
      assert.match(lease?.spec?.holderIdentity ?? "", new RegExp(`^${SA}-test_`));
      await cluster.createDatabase("other", "elsewhere");
      await cluster.createDatabase("databases", "after");
      await cluster.converged("databases", "after");
      // Untouched: what it reads is only the CRD's default.
      assert.deepEqual((await cluster.database("other", "elsewhere"))?.status, {
        phase: "Pending",
      });
      assert.doesNotMatch(log(), /forbidden/i);
    },
  );

  await t.step("its plain-HTTP metrics answer without a token", async () => {
    const response = await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`);
    const body = await response.text();
    assert.equal(response.status, 200);
    assert.match(body, /^leader_election_master_status\{name="databases.example.org"\} 1$/m);
  });
});

Deno.test("helm install, upgrade to non-default values and uninstall against a real API server", async (t) => {
  await using plane = await ControlPlane.start({ installCRDs: false });
  const kubectl = async (args: string[], stdin?: string) => {
    const out = await plane.kubectl(args, stdin);
    assert.equal(out.code, 0, `kubectl ${args.join(" ")}: ${out.stderr}`);
    return out.stdout;
  };
  await kubectl(["create", "namespace", "databases"]);
  for (
    const [kind, plural] of [["ServiceMonitor", "servicemonitors"], [
      "PrometheusRule",
      "prometheusrules",
    ]]
  ) {
    await kubectl(["apply", "--server-side", "-f", "-"], monitoringCrd(kind!, plural!));
  }
  const release = ["postgres-operator", CHART, "-n", NS, `--kubeconfig=${plane.kubeconfigPath}`];
  const image = async () => (await kubectl([
    "get",
    "deployment",
    SA,
    "-n",
    NS,
    "-o",
    "jsonpath={.spec.template.spec.containers[0].image}",
  ]));

  await t.step("install creates the namespace and every object, and prints its notes", async () => {
    const out = await helm("install", ...release, "--create-namespace");
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^STATUS: deployed$/m);
    assert.match(out.stdout, new RegExp(`rollout status deployment/${SA}$`, "m"));
    assert.equal(await image(), "postgres-operator:latest");
    await kubectl([
      "get",
      "crd/databases.database.example.com",
      "clusterrolebinding/postgres-operator-manager-rolebinding",
    ]);
  });

  await t.step("upgrade to non-default values confines the operator to its namespace", async () => {
    const out = await helm("upgrade", ...release, "-f", NON_DEFAULT);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /for Databases in databases only/);
    assert.equal(await image(), "registry.example.com/team/postgres-operator:v1.2.3");
    const gone = await plane.kubectl([
      "get",
      "clusterrolebinding/postgres-operator-manager-rolebinding",
    ]);
    assert.notEqual(gone.code, 0, "the cluster-wide binding is removed");
    await kubectl(["get", "rolebinding/postgres-operator-manager-rolebinding", "-n", "databases"]);
    await kubectl(["get", "prometheusrule/postgres-operator-alerts", "-n", NS]);
  });

  await t.step("a value of the wrong type is refused by the chart's schema", async () => {
    const out = await helm("upgrade", ...release, "--set", "replicas=three");
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /replicas.*want integer/);
  });

  await t.step("uninstall removes the release but keeps the CRD", async () => {
    const out = await helm("uninstall", ...release.filter((arg) => arg !== CHART));
    assert.equal(out.code, 0, out.stderr);
    const gone = await plane.kubectl(["get", "deployment", SA, "-n", NS]);
    assert.notEqual(gone.code, 0);
    await kubectl(["get", "crd/databases.database.example.com"]);
  });
});
