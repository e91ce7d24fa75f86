import assert from "node:assert/strict";
import client from "prom-client";
import { binaryPath, ControlPlane, eventually, startOperator } from "../../../tools/testenv/mod.ts";
import { DatabaseMetrics } from "../../../src/database/reconcile/metrics.ts";
import {
  type Database,
  DATABASE_RESOURCE,
  type DatabasePhase,
} from "../../../src/database/api/types.ts";
import { collectionPath, objectPath } from "../../../src/runtime/client/mod.ts";
import { Store } from "../../../src/runtime/cache/mod.ts";
import { createNamespace } from "../../_support/cluster.ts";
import { createDatabase } from "../../_support/databases.ts";
import {
  applyRbac,
  negotiatedProtocol,
  samples,
  scrape,
  servedCertificate,
  serviceAccountToken,
  total,
} from "../../runtime/metrics_helpers.ts";

function database(name: string, image: string, phase?: DatabasePhase): Database {
  return {
    apiVersion: "database.example.com/v1",
    kind: "Database",
    metadata: { name, namespace: "team", resourceVersion: `${Math.random()}` },
    spec: { image, replicas: 1, databaseName: "app", username: "app", storage: { size: "1Gi" } },
    ...(phase ? { status: { phase } } : {}),
  };
}

Deno.test("DatabaseMetrics reads the cache at scrape time and leaves no stale series", async () => {
  const registry = new client.Registry();
  const store = new Store<Database>();
  new DatabaseMetrics(registry, store);
  store.upsert(database("a", "postgres:17", "Ready"));
  store.upsert(database("b", "postgres:17"));
  let text = await registry.metrics();
  assert.equal(total(text, "database_resources", { phase: "Ready" }), 1);
  assert.equal(total(text, "database_resources", { phase: "Pending" }), 1, "no status yet");
  assert.equal(total(text, "database_resources", { phase: "Failed" }), 0);
  assert.equal(samples(text, "database_info").length, 2);

  store.upsert(database("a", "postgres:16", "Failed"));
  store.delete("team/b");
  text = await registry.metrics();
  assert.deepEqual(samples(text, "database_info").map((s) => s.labels), [
    { name: "a", namespace: "team", image: "postgres:16", phase: "Failed" },
  ]);
  assert.equal(total(text, "database_resources", { phase: "Ready" }), 0);
  assert.equal(total(text, "database_resources", { phase: "Failed" }), 1);
  assert.equal(total(text, "database_resources"), 1);
});

Deno.test("DatabaseMetrics.instrument() counts success, requeue and error", async () => {
  const registry = new client.Registry();
  const metrics = new DatabaseMetrics(registry, new Store<Database>());
  const request = { namespace: "team", name: "a", key: "team/a" };
  const signal = new AbortController().signal;
  await metrics.instrument(() => Promise.resolve())(request, signal);
  assert.deepEqual(
    await metrics.instrument(() => Promise.resolve({ requeueAfterMs: 5 }))(request, signal),
    { requeueAfterMs: 5 },
  );
  await metrics.instrument(() => Promise.resolve({ requeue: true }))(request, signal);
  const failing = metrics.instrument(() => Promise.reject(new Error("boom")));
  await assert.rejects(failing(request, signal), /boom/);
  const text = await registry.metrics();
  assert.equal(total(text, "database_reconcile_total", { result: "success" }), 1);
  assert.equal(total(text, "database_reconcile_total", { result: "requeue" }), 2);
  assert.equal(total(text, "database_reconcile_total", { result: "error" }), 1);
  assert.equal(total(text, "database_reconcile_duration_seconds_count", { result: "requeue" }), 2);
});

Deno.test("The operator's metrics endpoint, with real tokens and RBAC", async (t) => {
  await using plane = await ControlPlane.start({ installCRDs: false });
  const admin = plane.client;
  await applyRbac(plane);
  const ns = await createNamespace(admin, "metrics");
  // Debug level logs every denied request: the place a leaked token would show.
  const op = await startOperator(plane, ["--zap-log-level=debug"]);
  const tokens: string[] = [];
  const token = async (name: string, reader: boolean) => {
    tokens.push(await serviceAccountToken(plane, ns, name, reader));
    return tokens.at(-1)!;
  };
  const health = `http://127.0.0.1:${op.healthPort}`;
  const metricsUrl = `https://127.0.0.1:${op.metricsPort}/metrics`;
  let http: Deno.HttpClient | undefined;
  try {
    await t.step(
      "/readyz is 503 until the CRD exists, then 200 once the list succeeds",
      async () => {
        await eventually(async () => (await get(`${health}/healthz`)).status === 200, "healthz up");
        const before = await get(`${health}/readyz`);
        assert.equal(before.status, 503);
        assert.match(before.body, /caches not synced/);
        await plane.installCRDs();
        // The Database informer's list got 404 so far; its backoff retries it.
        await op.ready(60_000);
        assert.equal((await get(`${health}/readyz`)).status, 200);
      },
    );

    const ca = await servedCertificate(op.metricsPort);
    http = Deno.createHttpClient({ caCerts: [ca] });

    await t.step("a ServiceAccount bound to metrics-reader reads /metrics", async () => {
      const { status, body } = await scrape(metricsUrl, http, await token("prometheus", true));
      assert.equal(status, 200, body);
      for (const name of ["database_reconcile_total", "controller_runtime_reconcile_total"]) {
        assert.match(body, new RegExp(`^# TYPE ${name} counter$`, "m"));
      }
      assert.match(body, /^workqueue_depth\{name="database",controller="database"\} \d+$/m);
    });

    await t.step("no token or a garbage token gets 401, an unbound account 403", async () => {
      assert.equal((await scrape(metricsUrl, http)).status, 401);
      assert.equal((await scrape(metricsUrl, http, "not-a-token")).status, 401);
      const denied = await scrape(metricsUrl, http, await token("stranger", false));
      assert.equal(denied.status, 403);
      assert.match(denied.body, new RegExp(`system:serviceaccount:${ns}:stranger`));
    });

    await t.step("plain HTTP to the TLS port fails, and only HTTP/1.1 is offered", async () => {
      await assert.rejects(fetch(`http://127.0.0.1:${op.metricsPort}/metrics`));
      assert.equal(await negotiatedProtocol(op.metricsPort, ca), "http/1.1");
    });

    await t.step("a burst of 40 scrapes with one token costs at most a few reviews", async () => {
      const burst = await token("burst", true);
      const before = await tokenReviews(plane);
      const statuses = await Promise.all(
        Array.from({ length: 40 }, async () => (await scrape(metricsUrl, http, burst)).status),
      );
      assert.deepEqual(new Set(statuses), new Set([200]));
      const reviews = (await tokenReviews(plane)) - before;
      assert.ok(reviews >= 1 && reviews <= 4, `${reviews} TokenReviews for 40 scrapes`);
    });

    const reader = await token("reader", true);
    const page = async () => (await scrape(metricsUrl, http, reader)).body;

    await t.step("3 Databases appear in database_resources and database_info", async () => {
      for (const name of ["alpha", "beta", "gamma"]) {
        await createDatabase(admin, ns, name, {
          image: "postgres:17",
          databaseName: "app",
          username: "app",
          storage: { size: "1Gi" },
        });
      }
      let text = "";
      await eventually(
        async () => {
          text = await page();
          const phases = await serverPhases(ns);
          const info = samples(text, "database_info", { namespace: ns });
          // Pending is what the CRD says before the first status: wait for reconciles too.
          return total(text, "database_reconcile_total", { result: "success" }) >= 3 &&
            phases.size === 3 && ![...phases.values()].includes("") && info.length === 3 &&
            info.every((s) => s.labels.phase === phases.get(s.labels.name!)) &&
            [...new Set(phases.values())].every((phase) =>
              total(text, "database_resources", { phase }) ===
                [...phases.values()].filter((p) => p === phase).length
            );
        },
        "metrics match the Databases' phases",
        { describe: () => text.slice(0, 4000) },
      );
      assert.equal(total(text, "database_resources"), 3);
      for (const s of samples(text, "database_info", { namespace: ns })) {
        assert.equal(s.labels.image, "postgres:17");
        assert.equal(s.value, 1);
      }
      assert.ok(total(text, "database_reconcile_total", { result: "success" }) >= 3);
      assert.equal(
        total(text, "database_reconcile_total"),
        total(text, "controller_runtime_reconcile_total", { controller: "database" }),
        "every reconcile counted once in both",
      );
      assert.equal(
        total(text, "informer_cached_objects", { resource: "databases.database.example.com" }),
        3,
      );
    });

    await t.step("an image change or a delete leaves no stale database_info series", async () => {
      await admin.request("PATCH", objectPath(DATABASE_RESOURCE, ns, "alpha"), {
        body: { spec: { image: "postgres:17.6" } },
        contentType: "application/merge-patch+json",
      });
      await admin.request("DELETE", objectPath(DATABASE_RESOURCE, ns, "beta"));
      let text = "";
      await eventually(
        async () => {
          text = await page();
          const names = samples(text, "database_info", { namespace: ns }).map((s) =>
            `${s.labels.name}=${s.labels.image}`
          ).sort();
          return names.join() === "alpha=postgres:17.6,gamma=postgres:17";
        },
        "alpha on postgres:17.6, beta gone",
        { describe: () => text.slice(0, 4000) },
      );
      assert.equal(total(text, "database_resources"), 2);
    });

    await t.step("promtool check metrics finds nothing to fix in a real scrape", async () => {
      const child = new Deno.Command(await binaryPath("promtool"), {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(await page()));
      await writer.close();
      const out = await child.output();
      const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, said);
      assert.equal(said.trim(), "");
    });

    await t.step("process and informer metrics carry real values", async () => {
      const text = await page();
      assert.ok(total(text, "process_resident_memory_bytes") > 10 * 2 ** 20);
      assert.ok(total(text, "process_cpu_seconds_total") > 0);
      const started = total(text, "process_start_time_seconds");
      assert.ok(started <= Date.now() / 1000 && started > Date.now() / 1000 - 3600);
      for (const resource of ["databases.database.example.com", "secrets", "statefulsets.apps"]) {
        assert.equal(total(text, "informer_synced", { resource }), 1, resource);
        const last = total(text, "informer_last_event_timestamp_seconds", { resource });
        assert.ok(last > started && last <= Date.now() / 1000, `${resource}: ${last}`);
      }
    });

    await t.step(
      "SIGTERM stops the operator cleanly while a scraper keeps a connection",
      async () => {
        assert.equal((await scrape(metricsUrl, http, reader)).status, 200);
        const status = await op.stop();
        assert.equal(status.code, 0, op.process.tail(20));
        assert.match(op.process.tail(5), /"msg":"Stopped"/);
      },
    );

    await t.step("the operator's debug log holds no token", async () => {
      const log = await Deno.readTextFile(op.process.logPath);
      assert.match(log, /Forbidden metrics request/);
      assert.equal(tokens.length, 4);
      assert.ok(tokens.every((t) => !log.includes(t)));
    });
  } finally {
    http?.close();
    await op.stop();
  }

  async function serverPhases(namespace: string): Promise<Map<string, string>> {
    const list = await admin.request<{ items: Database[] }>(
      "GET",
      collectionPath(DATABASE_RESOURCE, namespace),
    );
    return new Map(list.items.map((db) => [db.metadata.name!, db.status?.phase ?? ""]));
  }
});

async function get(url: string): Promise<{ status: number; body: string }> {
  try {
    return await scrape(url, undefined);
  } catch {
    return { status: 0, body: "" };
  }
}

/** TokenReviews the API server has answered so far, from its own metrics. */
async function tokenReviews(plane: ControlPlane): Promise<number> {
  const { caPem, certPem, keyPem } = plane.connection;
  const http = Deno.createHttpClient({ caCerts: [caPem!], cert: certPem!, key: keyPem! });
  try {
    const { body } = await scrape(`${plane.server}/metrics`, http);
    return total(body, "apiserver_request_total", { resource: "tokenreviews", verb: "POST" });
  } finally {
    http.close();
  }
}
