import assert from "node:assert/strict";
import { watcher, type WatcherEvent } from "../../../src/runtime/cache/watcher.ts";
import { ApiError, CORE } from "../../../src/runtime/client/mod.ts";
import { FakeListWatch, type Item } from "./fake_list_watch.ts";
import { FakeClock } from "../fake_clock.ts";

/** Each event as a short string, so whole sequences compare at a glance. */
function describe(event: WatcherEvent<Item>): string {
  switch (event.type) {
    case "initApply":
    case "apply":
    case "delete":
      return `${event.type} ${event.object.metadata.name}`;
    case "initDone":
    case "bookmark":
      return `${event.type} ${event.resourceVersion}`;
    case "error":
      return `error ${event.error instanceof ApiError ? event.error.code : event.error.name}`;
    default:
      return event.type;
  }
}

/** Runs a watcher in the background; the test reads its events in order. */
function start(api: FakeListWatch, clock = new FakeClock()) {
  const stop = new AbortController();
  const seen: string[] = [];
  let wake = () => {};
  const consuming = (async () => {
    for await (
      const event of watcher<Item>(api, CORE.configMaps, stop.signal, {
        namespace: api.namespace,
        pageSize: 2,
        clock,
      })
    ) {
      seen.push(describe(event));
      wake();
    }
  })();
  let read = 0;
  const next = async () => {
    while (read >= seen.length) await new Promise<void>((r) => wake = r);
    return seen[read++]!;
  };
  /** Events up to and including the first that `last` accepts. */
  const until = async (last: (event: string) => boolean) => {
    const events: string[] = [];
    do events.push(await next()); while (!last(events.at(-1)!));
    return events;
  };
  return {
    next,
    until,
    [Symbol.asyncDispose]: async () => {
      stop.abort();
      await consuming;
    },
  };
}

function serverWith(names: string[]): FakeListWatch {
  const api = new FakeListWatch();
  for (const name of names) api.put(name);
  return api;
}

Deno.test("watcher() asks again for a failed list page with the same continue token", async () => {
  const api = serverWith(["a", "b", "c", "d", "e"]);
  // The second page fails once. The first watch fails at once too, so that a watcher that
  // skipped the rest of the list shows it rather than waiting on a watch.
  let watched = false;
  api.fault = (call, index) => {
    if (index === 1) return new ApiError(503, "ServiceUnavailable", "etcd leader changed");
    if (call.kind !== "watch" || watched) return undefined;
    watched = true;
    return new ApiError(500, "InternalError", "watch refused");
  };
  await using w = start(api);
  const seen = await w.until((e) => e.startsWith("initDone") || e === "error 500");
  assert.deepEqual(seen, [
    "init",
    "initApply a",
    "initApply b",
    "error 503",
    "initApply c",
    "initApply d",
    "initApply e",
    "initDone 105",
  ]);
  const [first, failed, retried] = api.calls;
  assert.equal(first?.kind === "list" && first.continue, undefined);
  assert.ok(failed?.kind === "list" && failed.continue);
  assert.deepEqual(retried, failed, "the failed page is asked for again");
  assert.equal(await w.next(), "error 500");
  const watch = await api.watchFrom(4);
  assert.equal(watch.resourceVersion, "105", "the watch starts from the complete list");
});

Deno.test("watcher() starts the list over when its continue token has expired (410)", async () => {
  const api = serverWith(["a", "b", "c", "d", "e"]);
  api.fault = (_call, index) => {
    if (index === 1) api.expireContinueTokens();
    return undefined;
  };
  await using w = start(api);
  const seen = await w.until((e) => e.startsWith("initDone"));
  assert.deepEqual(seen, [
    "init",
    "initApply a",
    "initApply b",
    "error 410",
    "init",
    "initApply a",
    "initApply b",
    "initApply c",
    "initApply d",
    "initApply e",
    "initDone 105",
  ]);
});

Deno.test("watcher() reports a watch that ends at once without an event as an error", async () => {
  const api = serverWith(["a"]);
  const clock = new FakeClock();
  await using w = start(api, clock);
  await w.until((e) => e.startsWith("initDone"));
  const instant = await api.watchFrom(1);
  instant.stream.end();
  const error = await w.next();
  assert.equal(error, "error ShortWatchError");
  // A watch that lasted a second is an ordinary end: reopened without an error.
  const quiet = await api.watchFrom(api.calls.indexOf(instant) + 2);
  clock.advance(1_000);
  quiet.stream.end();
  const reopened = await api.watchFrom(api.calls.indexOf(quiet) + 2);
  reopened.stream.send("MODIFIED", api.put("a"));
  assert.equal(await w.next(), "apply a");
});

Deno.test("watcher() restarts a watch silent for idleTimeoutMs, on virtual time", async () => {
  const api = serverWith(["a"]);
  const clock = new FakeClock();
  await using w = start(api, clock);
  await w.until((e) => e.startsWith("initDone"));
  const watch = await api.watchFrom(1);
  clock.advance(100_000);
  watch.stream.send("BOOKMARK", { metadata: { resourceVersion: "200" } });
  assert.equal(await w.next(), "bookmark 200");
  clock.advance(119_999);
  const stalled = w.next();
  clock.advance(1);
  assert.equal(await stalled, "error WatchStalledError");
  const reopened = await api.watchFrom(api.calls.indexOf(watch) + 2);
  assert.equal(reopened.resourceVersion, "200", "reopened from the last bookmark");
});
