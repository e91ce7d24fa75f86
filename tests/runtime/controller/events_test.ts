import assert from "node:assert/strict";
import type { KubeObject } from "../../../src/runtime/client/mod.ts";
import { EventRecorder } from "../../../src/runtime/controller/events.ts";
import { Logger } from "../../../src/runtime/observability/logger.ts";
import { TokenBucket } from "../../../src/runtime/time/mod.ts";
import { FakeClock } from "../fake_clock.ts";
import { runFor, settle } from "../virtual_time.ts";
import { FakeApi, hangUntilAborted } from "./fake_api.ts";

const quiet = () => new Logger({ format: "json", level: "error", write: () => {} });
const db: KubeObject = {
  apiVersion: "database.example.com/v1",
  kind: "Database",
  metadata: { name: "db", namespace: "ns", uid: "uid-db" },
};

function recorder() {
  const clock = new FakeClock();
  const api = new FakeApi();
  const events = new EventRecorder({
    client: api.client,
    controller: "test",
    instance: "test",
    logger: quiet(),
    clock,
  });
  const sent = () =>
    api.received.map((r) =>
      `${r.method} ${(r.init.body as Body).note ?? (r.init.body as Body).series?.count}`
    );
  return { clock, api, events, sent };
}

interface Body {
  note?: string;
  series?: { count: number };
}

Deno.test("EventRecorder lets 25 Events per object through, then one per five minutes", async () => {
  const { clock, events, sent } = recorder();
  for (let i = 0; i < 30; i++) events.record(db, "Normal", "Step", "Reconcile", `step ${i}`);
  await events.flush();
  assert.equal(sent().length, 25);
  await runFor(clock, 299_000, 1_000);
  events.record(db, "Normal", "Step", "Reconcile", "late");
  await events.flush();
  assert.equal(sent().length, 25, "the budget refills one Event per 300 s");
  await runFor(clock, 1_000, 1_000);
  events.record(db, "Normal", "Step", "Reconcile", "later");
  await events.flush();
  assert.deepEqual(sent().slice(25), ["POST later"]);
});

Deno.test("EventRecorder folds repeats into the first Event's series, at most once a minute", async () => {
  const { clock, events, sent } = recorder();
  const repeat = () => events.record(db, "Warning", "ApiError", "Reconcile", "same");
  repeat();
  repeat();
  repeat();
  await runFor(clock, 60_000, 10_000);
  repeat(); // count 4, a minute after the first: one PATCH.
  repeat();
  await runFor(clock, 30_000, 10_000);
  repeat(); // count 6, but within a minute of the PATCH.
  await runFor(clock, 540_000, 60_000);
  repeat(); // Past the ten-minute window: a new Event.
  await events.flush();
  assert.deepEqual(sent(), ["POST same", "PATCH 4", "POST same"]);
});

Deno.test("EventRecorder.flush() gives up when its signal aborts and drops what is left", async () => {
  const { clock, api, events } = recorder();
  api.handle = hangUntilAborted;
  for (let i = 0; i < 10; i++) events.record(db, "Normal", `Step${i}`, "Reconcile", `step ${i}`);
  const stop = new AbortController();
  clock.setTimer(5_000, () => stop.abort());
  const flushing = events.flush(stop.signal);
  await runFor(clock, 5_000, 1_000);
  await flushing;
  assert.equal(api.received.length, 4, "four senders; the other six never left");
  assert.ok(api.received.every((r) => r.init.signal?.aborted));
  events.record(db, "Normal", "After", "Reconcile", "after");
  await settle();
  assert.equal(api.received.length, 4, "a closed recorder sends nothing");
});

Deno.test("EventRecorder stays linear in a burst over many objects", async () => {
  const { clock, events, sent } = recorder();
  const checks = { tokens: 0 };
  const tokens = TokenBucket.prototype.tokens;
  TokenBucket.prototype.tokens = function (this: TokenBucket) {
    checks.tokens++;
    return tokens.call(this);
  };
  try {
    const objects = 3_000;
    for (let i = 0; i < objects; i++) {
      const object = { ...db, metadata: { ...db.metadata, name: `db-${i}`, uid: `uid-${i}` } };
      events.record(object, "Normal", "Created", "Create", `Created db-${i}`);
      if (i % 100 === 99) await runFor(clock, 1_000, 1_000);
    }
    await events.flush();
    assert.equal(sent().length, objects);
    // Budgets are looked at about once a minute, not all of them on every Event (4.5 million).
    assert.ok(checks.tokens < 4 * objects, `${checks.tokens} budget checks`);
  } finally {
    TokenBucket.prototype.tokens = tokens;
  }
});

Deno.test("EventRecorder forgets repeats out of their window, and keeps those in it", async () => {
  const { clock, events, sent } = recorder();
  const other = { ...db, metadata: { ...db.metadata, name: "other", uid: "uid-other" } };
  events.record(db, "Warning", "ApiError", "Reconcile", "same");
  await runFor(clock, 300_000, 60_000);
  events.record(other, "Warning", "ApiError", "Reconcile", "same");
  await runFor(clock, 301_000, 60_000);
  // The first is past its ten minutes (a new Event); the second is not (counted in its series).
  events.record(db, "Warning", "ApiError", "Reconcile", "same");
  events.record(other, "Warning", "ApiError", "Reconcile", "same");
  await events.flush();
  assert.deepEqual(sent(), ["POST same", "POST same", "POST same", "PATCH 2"]);
});
