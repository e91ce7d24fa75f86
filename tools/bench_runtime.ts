/**
 * `deno task bench:runtime`: the runtime's numbers. Work-queue throughput; informer cache memory
 * per object for 10,000 ConfigMaps of about 1 KiB with `managedFields` stripped and kept; time to
 * first sync of 10,000 objects; and what read-safety costs (deep-freeze once on insert, as the
 * store does, against a copy on every read).
 *
 * @module
 */
import { Informer, stripManagedFields } from "../src/runtime/cache/mod.ts";
import { collectionPath, CORE, type KubeObject } from "../src/runtime/client/mod.ts";
import { measureQueue } from "./bench_queue.ts";
import { ControlPlane } from "./testenv/mod.ts";
import { taskArgs } from "./task_args.ts";

const OBJECTS = 10_000;
const gc = (globalThis as { gc?: () => void }).gc;

if (import.meta.main) {
  taskArgs({
    task: "bench:runtime",
    summary: "the runtime's queue, cache and watch costs",
    options: {},
  });
  if (!gc) throw new Error("Run with --v8-flags=--expose-gc (deno task bench:runtime does)");
  console.log(await measureQueue());
  await using plane = await ControlPlane.start({ installCRDs: false });
  const client = plane.client;
  await client.request("POST", "/api/v1/namespaces", { body: { metadata: { name: "bench" } } });
  const payload = "x".repeat(900);
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < OBJECTS) {
      const name = `cm-${next++}`;
      // Server-side apply, so every object carries managedFields, as in real clusters.
      await client.request("PATCH", `${collectionPath(CORE.configMaps, "bench")}/${name}`, {
        body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { payload } },
        contentType: "application/apply-patch+yaml",
        query: { fieldManager: "bench" },
      });
    }
  }));
  console.log(
    `created ${OBJECTS} ConfigMaps in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  // The first round only warms up the JIT and the client's connections; it is not printed.
  for (
    const [label, transform] of [
      ["warm-up", stripManagedFields],
      ["managedFields kept", (o: KubeObject) => o],
      ["managedFields stripped", stripManagedFields],
    ] as const
  ) {
    // The informer lives inside this function only, so returning drops its cache.
    const sync = async () => {
      const informer = new Informer<KubeObject>(client, CORE.configMaps, {
        namespace: "bench",
        transform,
      });
      const stop = new AbortController();
      const syncStart = performance.now();
      const running = informer.run(stop.signal);
      await informer.synced;
      const syncMs = performance.now() - syncStart;
      const size = informer.store.size;
      stop.abort();
      await running;
      // What the cache retains: heap with the objects, minus heap once they are dropped.
      gc();
      const withObjects = Deno.memoryUsage().heapUsed;
      const cloneStart = performance.now();
      for (const object of informer.store.list()) structuredClone(object);
      const cloneMs = performance.now() - cloneStart;
      return { syncMs, size, withObjects, cloneMs };
    };
    const { syncMs, size, withObjects, cloneMs } = await sync();
    gc();
    const perObject = (withObjects - Deno.memoryUsage().heapUsed) / size;
    if (label !== "warm-up") {
      console.log(
        `informer, ${label}: first sync of ${size} objects in ${syncMs.toFixed(0)} ms, ` +
          `${(perObject / 1024).toFixed(2)} KiB of heap per object`,
      );
    }
    if (label === "managedFields stripped") {
      console.log(
        `read safety: deep-freeze happens once per insert (included in the sync above); ` +
          `a structuredClone of every object costs ${cloneMs.toFixed(0)} ms per full read ` +
          `(${((cloneMs * 1000) / size).toFixed(1)} µs per object read)`,
      );
    }
  }
}
