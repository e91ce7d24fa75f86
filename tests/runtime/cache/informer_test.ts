import assert from "node:assert/strict";
import { ControlPlane, eventually, TcpProxy } from "../../../tools/testenv/mod.ts";
import { Informer } from "../../../src/runtime/cache/informer.ts";
import { type InformerEvent } from "../../../src/runtime/cache/informer_event.ts";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import { Logger } from "../../../src/runtime/observability/logger.ts";
import {
  collectionPath,
  CORE,
  type KubeObject,
  objectPath,
} from "../../../src/runtime/client/resource.ts";
import { freshState, sameState, storeState, writeConfigMaps } from "./informer_helpers.ts";
import { createNamespace, parallel } from "../../_support/cluster.ts";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const configMaps = CORE.configMaps;

Deno.test("Informer keeps its cache equal to the API server's state", async (t) => {
  const plane = await ControlPlane.start({ installCRDs: false });
  const client = plane.client;
  try {
    await t.step("sees create, update and delete of ConfigMaps", async () => {
      const ns = await createNamespace(client, "informer-basic");
      const informer = new Informer<ConfigMap>(client, configMaps, { namespace: ns });
      const seen: InformerEvent<ConfigMap>[] = [];
      informer.subscribe((e) => seen.push(e));
      const stop = new AbortController();
      const running = informer.run(stop.signal);
      try {
        await informer.synced;
        const path = collectionPath(configMaps, ns);
        await client.request("POST", path, {
          body: { metadata: { name: "a" }, data: { v: "1" } },
        });
        await eventually(() => informer.store.get(`${ns}/a`) !== undefined, "cm a cached");
        await client.request("PATCH", objectPath(configMaps, ns, "a"), {
          body: { data: { v: "2" } },
          contentType: "application/merge-patch+json",
        });
        await eventually(() => informer.store.get(`${ns}/a`)?.data?.v === "2", "cm a updated");
        await client.request("DELETE", objectPath(configMaps, ns, "a"));
        await eventually(() => informer.store.get(`${ns}/a`) === undefined, "cm a removed");
        assert.deepEqual(seen.map((e) => e.type), ["added", "updated", "deleted"]);
        assert.equal(seen[1]?.old?.data?.v, "1");
        assert.equal(informer.store.get(`${ns}/a`), undefined);
      } finally {
        stop.abort();
        await running;
      }
    });

    await t.step("strips managedFields and hands out frozen objects", async () => {
      const ns = await createNamespace(client, "informer-frozen");
      await client.request("POST", collectionPath(configMaps, ns), {
        body: { metadata: { name: "f" }, data: { v: "1" } },
      });
      const informer = new Informer<ConfigMap>(client, configMaps, { namespace: ns });
      const stop = new AbortController();
      const running = informer.run(stop.signal);
      try {
        await informer.synced;
        const cached = informer.store.get(`${ns}/f`)!;
        assert.equal(cached.metadata.managedFields, undefined);
        assert.throws(() => {
          (cached.data as Record<string, string>).v = "changed";
        }, TypeError);
      } finally {
        stop.abort();
        await running;
      }
    });

    await t.step("converges after kube-apiserver restarts during a stream of updates", async () => {
      const ns = await createNamespace(client, "informer-restart");
      const informer = new Informer<ConfigMap>(client, configMaps, { namespace: ns });
      const stop = new AbortController();
      const running = informer.run(stop.signal);
      try {
        await informer.synced;
        const writer = new KubeClient(plane.connection, { qps: 0, timeoutMs: 5_000 });
        const updates = writeConfigMaps(writer, ns, 20, 15);
        await new Promise((r) => setTimeout(r, 300));
        await plane.restartApiServer();
        await updates;
        writer.close();
        const expected = await freshState(client, configMaps, ns);
        assert.equal(expected.size, 20);
        await eventually(
          () => sameState(storeState(informer.store), expected),
          "cache equals a fresh list after the restart",
          { describe: () => informer.store.size },
        );
      } finally {
        stop.abort();
        await running;
      }
    });

    await t.step("restarts a stalled watch and catches up", async () => {
      const ns = await createNamespace(client, "informer-stall");
      const url = new URL(plane.server);
      await using proxy = new TcpProxy({ hostname: url.hostname, port: Number(url.port) });
      const viaProxy = new KubeClient(
        { ...plane.connection, server: `https://127.0.0.1:${proxy.port}` },
        { qps: 0, timeoutMs: 3_000 },
      );
      const lines: string[] = [];
      const logger = new Logger({ format: "json", level: "debug", write: (l) => lines.push(l) });
      const informer = new Informer<ConfigMap>(viaProxy, configMaps, {
        namespace: ns,
        idleTimeoutMs: 1_000,
        logger,
      });
      const stop = new AbortController();
      const running = informer.run(stop.signal);
      try {
        await informer.synced;
        proxy.pause();
        await writeConfigMaps(client, ns, 5, 3);
        await eventually(
          () => lines.some((l) => l.includes("WatchStalled") || l.includes("silent")),
          "stall detected",
          { timeoutMs: 10_000 },
        );
        proxy.resume();
        const expected = await freshState(client, configMaps, ns);
        await eventually(
          () => sameState(storeState(informer.store), expected),
          "cache equals a fresh list after the stall",
        );
      } finally {
        stop.abort();
        await running;
        viaProxy.close();
      }
    });

    await t.step("indexes 1,000 objects by a field and lists exactly the matches", async () => {
      const ns = await createNamespace(client, "informer-index");
      const environments = ["development", "staging", "production"];
      const expected = new Map<string, string[]>(environments.map((e) => [e, []]));
      const names = Array.from({ length: 1000 }, (_, i) => `cm-${i}`);
      await parallel(names, 32, async (name, i) => {
        const environment = environments[(i * 7) % 3]!;
        expected.get(environment)!.push(`${ns}/${name}`);
        await client.request("POST", collectionPath(configMaps, ns), {
          body: { metadata: { name }, data: { environment } },
        });
      });
      const informer = new Informer<ConfigMap>(client, configMaps, { namespace: ns });
      informer.indexField(
        "environment",
        (o) => o.data?.environment ? [o.data.environment] : [],
      );
      const stop = new AbortController();
      const running = informer.run(stop.signal);
      try {
        await informer.synced;
        assert.equal(informer.store.size, 1000);
        for (const environment of environments) {
          const got = informer.store.list({ index: "environment", value: environment })
            .map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();
          assert.deepEqual(got, expected.get(environment)!.sort());
        }
        assert.equal(informer.store.list({ namespace: ns }).length, 1000);
        assert.deepEqual(informer.store.list({ index: "environment", value: "none" }), []);
      } finally {
        stop.abort();
        await running;
      }
    });
  } finally {
    await plane.stop();
  }
});
