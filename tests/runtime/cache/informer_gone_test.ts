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
import { createNamespace } from "../../_support/cluster.ts";

const configMaps = CORE.configMaps;

// Without the watch cache, watches are served by etcd itself, so compacting etcd makes the
// informer's last resourceVersion too old and the server answers 410 Gone.
Deno.test("Informer relists after 410 Gone and loses no deletion", async () => {
  await using plane = await ControlPlane.start({
    installCRDs: false,
    apiServerArgs: ["--watch-cache=false"],
  });
  const client = plane.client;
  const ns = await createNamespace(client, "informer-gone");
  await writeConfigMaps(client, ns, 10, 1);
  const url = new URL(plane.server);
  await using proxy = new TcpProxy({ hostname: url.hostname, port: Number(url.port) });
  const viaProxy = new KubeClient(
    { ...plane.connection, server: `https://127.0.0.1:${proxy.port}` },
    { qps: 0, timeoutMs: 2_000 },
  );
  const lines: string[] = [];
  const informer = new Informer<KubeObject>(viaProxy, configMaps, {
    namespace: ns,
    logger: new Logger({ format: "json", write: (l) => lines.push(l) }),
  });
  const deleted: string[] = [];
  informer.subscribe((e: InformerEvent<KubeObject>) => {
    if (e.type === "deleted") deleted.push(e.object.metadata.name!);
  });
  const stop = new AbortController();
  const running = informer.run(stop.signal);
  try {
    await informer.synced;
    assert.equal(informer.store.size, 10);
    // Hold every connection, so no reconnect reaches the server before the compaction.
    proxy.pause();
    proxy.cut();
    await writeConfigMaps(client, ns, 12, 2);
    for (const name of ["cm-0", "cm-1", "cm-2"]) {
      await client.request("DELETE", objectPath(configMaps, ns, name));
    }
    await client.request("POST", collectionPath(configMaps, ns), {
      body: { metadata: { name: "late" } },
    });
    await plane.compactEtcd();
    proxy.cut();
    proxy.resume();
    const expected = await freshState(client, configMaps, ns);
    await eventually(
      () => sameState(storeState(informer.store), expected),
      "cache equals a fresh list after 410",
      { timeoutMs: 30_000, describe: () => lines.slice(-3) },
    );
    assert.ok(lines.some((l) => l.includes('"code":410')), "a 410 Gone was seen");
    assert.deepEqual(deleted.sort(), ["cm-0", "cm-1", "cm-2"]);
    assert.ok(informer.store.get(`${ns}/late`));
  } finally {
    stop.abort();
    await running;
    viaProxy.close();
  }
});
