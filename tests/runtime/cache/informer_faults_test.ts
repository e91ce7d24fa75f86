/**
 * The informer under faults the real API server cannot stage on demand, against a narrow fake of
 * the API client and on virtual time.
 */
import assert from "node:assert/strict";
import client from "prom-client";
import {
  Informer,
  type InformerEvent,
  type InformerOptions,
  registerInformerMetrics,
} from "../../../src/runtime/cache/mod.ts";
import { ApiError, CORE, type KubeObject } from "../../../src/runtime/client/mod.ts";
import { Logger } from "../../../src/runtime/observability/mod.ts";
import { FakeListWatch, type Item } from "./fake_list_watch.ts";
import { FakeClock } from "../fake_clock.ts";
import { samples } from "../metrics_helpers.ts";

/** Longer than any test advances, so that only backoff timers fall due. */
const IDLE_MS = 3_600_000;
const isBackoff = (ms: number) => ms !== IDLE_MS;

function setup(api: FakeListWatch, options: InformerOptions<Item> = {}) {
  const clock = new FakeClock();
  const lines: string[] = [];
  const informer = new Informer<Item>(api, CORE.configMaps, {
    namespace: api.namespace,
    pageSize: 2,
    idleTimeoutMs: IDLE_MS,
    clock,
    backoff: { jitter: 0 },
    logger: new Logger({ format: "json", write: (line) => lines.push(line) }),
    ...options,
  });
  const events: InformerEvent<Item>[] = [];
  informer.subscribe((event) => events.push(event));
  const stop = new AbortController();
  const running = informer.run(stop.signal);
  return {
    api,
    clock,
    informer,
    events,
    lines,
    running,
    /** name → resourceVersion of what the cache holds. */
    cached: () =>
      new Map(informer.store.list().map((o) => [o.metadata.name, o.metadata.resourceVersion])),
    /** Waits for the next backoff delay, lets it pass, and returns its length. */
    async backOff(): Promise<number> {
      const ms = await clock.nextTimer(isBackoff);
      clock.advance(ms);
      return ms;
    },
    [Symbol.asyncDispose]: async () => {
      stop.abort();
      await running;
    },
  };
}

function serverWith(names: string[]): FakeListWatch {
  const api = new FakeListWatch();
  for (const name of names) api.put(name);
  return api;
}

Deno.test("Informer ends equal to a fresh list after a relist whose second page timed out", async () => {
  const api = serverWith(["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);
  await using t = setup(api);
  await t.informer.synced;
  assert.deepEqual(t.cached(), api.state());
  const watch = await api.watchFrom(1);
  // While the watch is down: one deletion, one update, one creation.
  api.remove("cm-0");
  api.put("cm-3", { changed: "yes" });
  api.put("late");
  const relistFrom = api.calls.length;
  api.fault = (_call, index) =>
    index === relistFrom + 1 ? new ApiError(0, "Timeout", "GET: no answer in 30000 ms") : undefined;
  watch.stream.send("ERROR", { kind: "Status", code: 410, reason: "Expired" });
  await t.backOff(); // after the 410
  await t.backOff(); // after the page that timed out
  await api.watchFrom(relistFrom + 1);
  assert.deepEqual(t.cached(), api.state());
  const changes = t.events.filter((e) => !e.initial).map((e) =>
    `${e.type} ${e.object.metadata.name}`
  );
  assert.deepEqual(changes.sort(), ["added late", "deleted cm-0", "updated cm-3"]);
});

Deno.test("Informer backs off 0.8 s to 30 s while the list fails, and resets only after 2 healthy minutes", async () => {
  const api = new FakeListWatch();
  api.put("a");
  let failing = 10;
  api.fault = (call) =>
    call.kind === "list" && failing-- > 0
      ? new ApiError(500, "InternalError", "etcdserver: request timed out")
      : undefined;
  await using t = setup(api);
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) delays.push(await t.backOff());
  assert.deepEqual(delays, [
    800,
    1_600,
    3_200,
    6_400,
    12_800,
    25_600,
    30_000,
    30_000,
    30_000,
    30_000,
  ]);
  await t.informer.synced;
  // A watch that breaks a minute later is not after a healthy period: the delay stays long.
  let watch = await api.watchFrom(api.calls.length);
  t.clock.advance(60_000);
  watch.stream.fail(new ApiError(0, "StreamError", "connection reset"));
  assert.equal(await t.backOff(), 30_000);
  // Two minutes without a failure: back to the first step.
  watch = await api.watchFrom(api.calls.length);
  t.clock.advance(120_000);
  watch.stream.fail(new ApiError(0, "StreamError", "connection reset"));
  assert.equal(await t.backOff(), 800);
});

Deno.test("Informer backs off watches that end at once without an event", async () => {
  const api = serverWith(["a"]);
  await using t = setup(api);
  await t.informer.synced;
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    const watch = await api.watchFrom(api.calls.length);
    watch.stream.end();
    delays.push(await t.backOff());
  }
  assert.deepEqual(delays, [800, 1_600, 3_200, 6_400]);
  assert.ok(t.lines.some((l) => l.includes("without an event")), "logged as a failure");
});

Deno.test("Informer logs, counts and survives a throwing transform, index function and subscriber", async () => {
  const api = serverWith(["a", "bad", "c"]);
  const registry = new client.Registry();
  const transform = (item: Item) => {
    if (item.metadata.name === "bad") throw new Error("transform cannot read bad");
    return { ...item, data: { projected: "yes" } };
  };
  await using t = setup(api, { transform });
  registerInformerMetrics(registry, () => [t.informer as unknown as Informer<KubeObject>]);
  t.informer.indexField("letter", (item) => {
    if (item.metadata.name === "c") throw new Error("index cannot read c");
    return [item.metadata.name[0]!];
  });
  const delivered: string[] = [];
  const { promise: sawD, resolve: seeD } = Promise.withResolvers<void>();
  t.informer.subscribe((event) => {
    if (event.object.metadata.name === "a") throw new Error("predicate bug");
  });
  t.informer.subscribe((event) => {
    delivered.push(event.object.metadata.name);
    if (event.object.metadata.name === "d") seeD();
  });
  await t.informer.synced;
  // Every object is cached; the one whose transform threw as it was received.
  assert.deepEqual(t.cached(), api.state());
  assert.equal(t.informer.store.get("ns/a")?.data?.projected, "yes");
  assert.equal(t.informer.store.get("ns/bad")?.data?.projected, undefined);
  // The index left out only the object its function threw on.
  assert.deepEqual(t.informer.store.keysByIndex("letter", "a"), ["ns/a"]);
  assert.deepEqual(t.informer.store.keysByIndex("letter", "c"), []);
  // The next subscriber still heard of every change, and the informer goes on after all that.
  assert.deepEqual(delivered.sort(), ["a", "bad", "c"]);
  const watch = await api.watchFrom(api.calls.length);
  watch.stream.send("MODIFIED", api.put("a", { v: "2" }));
  watch.stream.send("ADDED", api.put("d"));
  await sawD;
  assert.deepEqual(t.cached(), api.state());
  assert.deepEqual(t.informer.handlerErrors, { transform: 1, index: 1, subscriber: 2 });
  for (const stage of ["transform", "index function", "subscriber"]) {
    assert.ok(t.lines.some((l) => l.includes(`Informer ${stage} threw`)), `${stage} logged`);
  }
  const text = await registry.metrics();
  const counted = (stage: string) =>
    samples(text, "informer_handler_errors_total", { resource: "configmaps", stage })[0]?.value;
  assert.deepEqual([counted("transform"), counted("index"), counted("subscriber")], [1, 1, 2]);
});
