import assert from "node:assert/strict";
import { ControlPlane, eventually } from "../../../tools/testenv/mod.ts";
import { Logger } from "../../../src/runtime/observability/logger.ts";
import { Manager } from "../../../src/runtime/controller/manager.ts";
import { RuntimeMetrics } from "../../../src/runtime/observability/metrics.ts";
import { type Request, TerminalError } from "../../../src/runtime/controller/reconcile.ts";
import {
  collectionPath,
  CORE,
  type KubeObject,
  objectPath,
} from "../../../src/runtime/client/resource.ts";
import { createNamespace, parallel } from "../../_support/cluster.ts";

const configMaps = CORE.configMaps;
const quiet = () => new Logger({ format: "json", level: "error", write: () => {} });

Deno.test("Controller against a real API server", async (t) => {
  await using plane = await ControlPlane.start({ installCRDs: false });
  const client = plane.client;

  await t.step("2 workers over 500 keys never run one key twice at once", async () => {
    const ns = await createNamespace(client, "controller-keys");
    const names = Array.from({ length: 500 }, (_, i) => `cm-${i}`);
    await parallel(names.slice(0, 250), 16, (name) => create(name));
    const active = new Set<string>();
    const processed = new Set<string>();
    let overlaps = 0;
    let peak = 0;
    const manager = new Manager({ client, logger: quiet(), namespace: ns });
    manager.controller({
      name: "configmap",
      for: manager.informer(configMaps),
      maxConcurrentReconciles: 2,
      reconcile: async ({ key, name }: Request) => {
        if (active.has(key)) overlaps++;
        active.add(key);
        peak = Math.max(peak, active.size);
        // Touch our own object while processing it, so its key is re-added mid-reconcile.
        if (!processed.has(key) && Number(name.slice(3)) % 10 === 0) {
          await client.request("PATCH", objectPath(configMaps, ns, name), {
            body: { data: { touched: "yes" } },
            contentType: "application/merge-patch+json",
          });
        }
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        processed.add(key);
        active.delete(key);
      },
    });
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    await parallel(names.slice(250), 16, (name) => create(name));
    try {
      await eventually(() => processed.size === 500, "every key reconciled", {
        timeoutMs: 60_000,
        describe: () => processed.size,
      });
      assert.equal(overlaps, 0);
      assert.ok(peak <= 2, `peak concurrency ${peak}`);
      assert.equal(peak, 2, "both workers were used");
    } finally {
      stop.abort();
      await running;
    }

    async function create(name: string) {
      await client.request("POST", collectionPath(configMaps, ns), {
        body: { metadata: { name } },
      });
    }
  });

  await t.step("errors are retried with backoff; terminal errors are not", async () => {
    const ns = await createNamespace(client, "controller-errors");
    for (const name of ["flaky", "broken"]) {
      await client.request("POST", collectionPath(configMaps, ns), {
        body: { metadata: { name } },
      });
    }
    const attempts = new Map<string, number>();
    const metrics = new RuntimeMetrics();
    const manager = new Manager({ client, logger: quiet(), namespace: ns, metrics });
    manager.controller({
      name: "configmap",
      for: manager.informer(configMaps),
      reconcile: ({ name }: Request) => {
        const n = (attempts.get(name) ?? 0) + 1;
        attempts.set(name, n);
        if (name === "broken") throw new TerminalError("cannot ever work");
        if (n < 4) throw new Error(`attempt ${n} fails`);
        return Promise.resolve();
      },
    });
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    try {
      await eventually(() => attempts.get("flaky") === 4, "flaky succeeded on attempt 4");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(attempts.get("flaky"), 4);
      assert.equal(attempts.get("broken"), 1);
      const text = await metrics.registry.metrics();
      assert.match(
        text,
        /controller_runtime_reconcile_total\{controller="configmap",result="success"\} 1/,
      );
      assert.match(text, /controller_runtime_reconcile_errors_total\{controller="configmap"\} 4/);
      assert.match(
        text,
        /controller_runtime_terminal_reconcile_errors_total\{controller="configmap"\} 1/,
      );
      assert.match(text, /workqueue_retries_total\{name="configmap",controller="configmap"\} 3/);
    } finally {
      stop.abort();
      await running;
    }
  });

  await t.step("shutdown lets a reconcile in flight finish", async () => {
    const ns = await createNamespace(client, "controller-shutdown");
    await client.request("POST", collectionPath(configMaps, ns), {
      body: { metadata: { name: "slow" } },
    });
    let began = false;
    let finished = false;
    const manager = new Manager({ client, logger: quiet(), namespace: ns });
    manager.controller<KubeObject>({
      name: "configmap",
      for: manager.informer(configMaps),
      reconcile: async () => {
        began = true;
        await new Promise((r) => setTimeout(r, 500));
        finished = true;
      },
    });
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    await eventually(() => began, "reconcile began");
    stop.abort();
    await running;
    assert.equal(finished, true);
  });
});
