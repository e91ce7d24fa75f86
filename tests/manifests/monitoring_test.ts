import assert from "node:assert/strict";
import { parse, parseAllDocuments, stringify } from "yaml";
import { binaryPath } from "../../tools/testenv/mod.ts";
import type { Obj } from "./cluster.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const MANIFESTS = `${REPO}manifests/`;
const RULE = `${MANIFESTS}alerts/prometheus_rule.yaml`;
const DASHBOARD = `${MANIFESTS}dashboards/postgres-operator.json`;
const FIXTURE = new URL("./alerts_test.yaml", import.meta.url).pathname;
const JOB = "postgres-operator-controller-manager-metrics-service";
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function promtool(cwd: string, ...args: string[]) {
  const out = await new Deno.Command(await binaryPath("promtool"), { args, cwd }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** The PrometheusRule's groups as a plain Prometheus rules file. */
async function rulesFile(): Promise<string> {
  const rule = parse(await Deno.readTextFile(RULE));
  assert.equal(rule.kind, "PrometheusRule");
  return stringify(rule.spec);
}

/** Every metric the operator exports: the names given to prom-client in src/. */
async function exportedMetrics(): Promise<Set<string>> {
  const names = new Set<string>();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(path);
        for (const [, name] of text.matchAll(/name: "([a-z_]+)"/g)) names.add(name!);
      }
    }
  };
  await walk(`${REPO}src`);
  return names;
}

/** Metric names in a PromQL expression (identifiers before `{`, `[`, `)` or the end). */
function metricsIn(expr: string): string[] {
  const functions = new Set(["by", "on", "or", "and", "unless", "without", "time", "vector"]);
  return [...expr.matchAll(/\b([a-z_]+_[a-z_]+)\b\s*(?=\{|\[|\)|$)/g)].map((m) => m[1]!)
    .filter((name) => !functions.has(name) && !name.startsWith("histogram_"));
}

Deno.test("promtool check rules accepts the PrometheusRule, and refuses a broken one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "monitoring-test-" });
  try {
    await Deno.writeTextFile(`${dir}/rules.yaml`, await rulesFile());
    const ok = await promtool(dir, "check", "rules", "rules.yaml");
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /SUCCESS: 7 rules found/);
    const broken = (await rulesFile()).replace("> 600", "> > 600");
    await Deno.writeTextFile(`${dir}/rules.yaml`, broken);
    const bad = await promtool(dir, "check", "rules", "rules.yaml");
    assert.notEqual(bad.code, 0, "the check can fail");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("promtool test rules: each alert fires on its fixture and not before its time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "monitoring-test-" });
  try {
    await Deno.writeTextFile(`${dir}/rules.yaml`, await rulesFile());
    await Deno.copyFile(FIXTURE, `${dir}/alerts_test.yaml`);
    const out = await promtool(dir, "test", "rules", "alerts_test.yaml");
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /SUCCESS/);
    // The fixture can fail: the reconcile-error alert with a shorter `for:` fires too early.
    await Deno.writeTextFile(
      `${dir}/rules.yaml`,
      (await rulesFile()).replace("for: 15m", "for: 1m"),
    );
    const early = await promtool(dir, "test", "rules", "alerts_test.yaml");
    assert.notEqual(early.code, 0);
    assert.match(early.stdout + early.stderr, /PostgresOperatorReconcileErrors, time: 10m/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("The alerts and the dashboard read only metrics the operator exports", async () => {
  const exported = await exportedMetrics();
  assert.ok(exported.has("informer_last_event_timestamp_seconds"), [...exported].join(", "));
  const known = (name: string) =>
    exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, ""));
  const rules = parse(await rulesFile()).groups.flatMap((g: { rules: Obj[] }) => g.rules);
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
  const panels = dashboard.panels.filter((p: Obj) => p.type !== "row");
  const exprs: string[] = [
    ...rules.map((r: { expr: string }) => r.expr),
    ...panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr)),
  ];
  for (const expr of exprs) {
    const names = metricsIn(expr);
    assert.ok(names.length > 0, expr);
    for (const name of names) assert.ok(known(name), `${name} in ${expr}`);
  }
  for (const rule of rules) assert.match(rule.expr, new RegExp(`job="${JOB}"`), rule.alert);
  // The panels: reconcile rate/errors/latency, queue depth/latency, API codes, informer
  // health, leader, Databases by phase and reconcile p99.
  const all = exprs.join("\n");
  for (
    const metric of [
      "controller_runtime_reconcile_total",
      "controller_runtime_reconcile_errors_total",
      "controller_runtime_reconcile_time_seconds_bucket",
      "workqueue_depth",
      "workqueue_queue_duration_seconds_bucket",
      "rest_client_requests_total",
      "informer_last_event_timestamp_seconds",
      "leader_election_master_status",
      "database_resources",
      "database_reconcile_duration_seconds_bucket",
    ]
  ) assert.ok(all.includes(metric), metric);
  // Grafana lays panels on a 24-column grid; ids are unique.
  const ids = dashboard.panels.map((p: Obj) => p.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const p of dashboard.panels) assert.ok(p.gridPos.x + p.gridPos.w <= 24, p.title);
});

Deno.test("Every dashboard query is valid PromQL (promtool checks them as recording rules)", async () => {
  const dashboard = JSON.parse(await Deno.readTextFile(DASHBOARD));
  const exprs: string[] = dashboard.panels.filter((p: Obj) => p.type !== "row")
    .flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr));
  const rules = exprs.map((expr, i) => ({
    record: `dashboard:query_${i}`,
    expr: expr.replaceAll("$__rate_interval", "5m").replaceAll("$job", JOB),
  }));
  const dir = await Deno.makeTempDir({ prefix: "monitoring-test-" });
  try {
    await Deno.writeTextFile(
      `${dir}/dashboard.yaml`,
      stringify({ groups: [{ name: "dashboard", rules }] }),
    );
    const out = await promtool(dir, "check", "rules", "dashboard.yaml");
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("The alerts and dashboard components are opt-in and take the default's names", async () => {
  const kustomize = async (dir: string) => {
    const out = await new Deno.Command(await binaryPath("kubectl"), { args: ["kustomize", dir] })
      .output();
    assert.ok(out.success, decode(out.stderr));
    return parseAllDocuments(decode(out.stdout)).map((doc) => doc.toJS() as Obj);
  };
  const plain = await kustomize(`${MANIFESTS}default`);
  assert.ok(!plain.some((o) => o.kind === "PrometheusRule" || o.kind === "ConfigMap"));
  // What a user does: uncomment the components in a copy of the tree.
  const dir = await Deno.makeTempDir({ prefix: "monitoring-test-" });
  try {
    await new Deno.Command("cp", { args: ["-r", MANIFESTS, `${dir}/manifests`] }).output();
    const file = `${dir}/manifests/default/kustomization.yaml`;
    const text = await Deno.readTextFile(file);
    const enabled = text.replace("# components:", "components:")
      .replace("#   - ../alerts", "  - ../alerts").replace(
        "#   - ../dashboards",
        "  - ../dashboards",
      );
    assert.notEqual(enabled, text);
    await Deno.writeTextFile(file, enabled);
    const objects = await kustomize(`${dir}/manifests/default`);
    const rule = objects.find((o) => o.kind === "PrometheusRule");
    assert.equal(rule?.metadata.name, "postgres-operator-alerts");
    assert.equal(rule?.metadata.namespace, "postgres-operator-system");
    const map = objects.find((o) => o.kind === "ConfigMap");
    assert.equal(map?.metadata.name, "postgres-operator-grafana-dashboard");
    assert.equal(map?.metadata.namespace, "postgres-operator-system");
    assert.equal(map?.metadata.labels?.grafana_dashboard, "1");
    assert.deepEqual(
      JSON.parse(map?.data["postgres-operator.json"]),
      JSON.parse(await Deno.readTextFile(DASHBOARD)),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
