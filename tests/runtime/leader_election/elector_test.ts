import assert from "node:assert/strict";
import { LeaderElector } from "../../../src/runtime/leader_election/leader_election.ts";
import {
  type LeaderElectorOptions,
  leaseAction,
} from "../../../src/runtime/leader_election/lease_action.ts";
import type { Lease } from "../../../src/runtime/leader_election/lease_lock.ts";
import { Logger } from "../../../src/runtime/observability/logger.ts";
import { FakeClock } from "../fake_clock.ts";
import { runFor, runUntil, settle } from "../virtual_time.ts";
import { FakeLeaseLock, FakeLeaseStore } from "./fake_lease_lock.ts";

const quiet = () => new Logger({ format: "json", level: "error", write: () => {} });

/** An elector on `lock` with client-go's default timings (lease 15 s, renew 10 s, retry 2 s). */
function elector(
  lock: FakeLeaseLock,
  identity: string,
  options: Partial<LeaderElectorOptions> = {},
) {
  return new LeaderElector({
    lock,
    identity,
    logger: quiet(),
    clock: lock.clock,
    random: () => 0,
    ...options,
  });
}

/** Resolves to the virtual time at which `promise` settles, once it does. */
function whenSettled(clock: FakeClock, promise: Promise<unknown>): () => number | undefined {
  let at: number | undefined;
  promise.then(() => (at = clock.now()));
  return () => at;
}

const lease = (holder: string, durationSeconds = 15): Lease => ({
  metadata: { name: "fake", resourceVersion: "1" },
  spec: { holderIdentity: holder, leaseDurationSeconds: durationSeconds },
});

Deno.test("leaseAction() decides from the record, the identity and when it was seen", () => {
  assert.equal(leaseAction(undefined, "me", 0, 0), "create");
  assert.equal(leaseAction(lease("me"), "me", 0, 100_000), "renew");
  assert.equal(leaseAction(lease(""), "me", 0, 0), "take", "a released lease is free at once");
  assert.equal(leaseAction({ metadata: {} }, "me", 0, 0), "take", "a lease without a record");
  assert.equal(leaseAction(lease("other"), "me", 1_000, 15_999), "wait");
  assert.equal(leaseAction(lease("other"), "me", 1_000, 16_000), "take");
  assert.equal(leaseAction(lease("other", 1), "me", 1_000, 2_000), "take");
});

Deno.test("the first term counts from when the acquiring write was sent, not answered", async () => {
  const clock = new FakeClock();
  const lock = new FakeLeaseLock(clock);
  lock.latency.create = 4_000;
  const a = elector(lock, "a");
  const elected = whenSettled(clock, a.elected);
  const lost = whenSettled(clock, a.lost);
  const stop = new AbortController();
  const running = a.run(stop.signal);
  await runUntil(clock, () => elected() !== undefined, 10_000);
  assert.equal(elected(), 4_000, "elected when the answer came");
  assert.equal(lock.store.writes[0]?.at, 0, "but the Lease was written when the request was sent");
  lock.partitioned = true; // Every renewal from now on hangs.
  await runUntil(clock, () => lost() !== undefined, 30_000);
  // The renew deadline (10 s) runs from the send at 0, as the others' lease does.
  assert.ok(lost()! >= 10_000 && lost()! <= 10_100, `lost at ${lost()} ms`);
  assert.equal(a.isLeader, false);
  await running;
  stop.abort();
});

Deno.test("a slow acquiring answer never makes two leaders overlap", async () => {
  const clock = new FakeClock();
  const store = new FakeLeaseStore(clock);
  const lockA = new FakeLeaseLock(clock, store);
  const lockB = new FakeLeaseLock(clock, store);
  lockA.latency.create = 8_000;
  const a = elector(lockA, "a");
  const b = elector(lockB, "b");
  const aLost = whenSettled(clock, a.lost);
  const bElected = whenSettled(clock, b.elected);
  const stop = new AbortController();
  const runningA = a.run(stop.signal);
  await settle();
  assert.equal(store.lease?.spec?.holderIdentity, "a", "stored at once, answered in 8 s");
  const runningB = b.run(stop.signal);
  await runUntil(clock, () => a.isLeader, 10_000);
  lockA.partitioned = true; // The leader is cut off: its renewals never arrive.
  await runUntil(clock, () => bElected() !== undefined, 60_000);
  assert.ok(aLost() !== undefined, "a has given up by the time b leads");
  assert.ok(aLost()! < bElected()!, `a lost at ${aLost()} ms, b elected at ${bElected()} ms`);
  // b saw a's record at 0 and waited out the 15 s lease from there.
  assert.ok(bElected()! >= 15_000, `b elected at ${bElected()} ms`);
  stop.abort();
  await runFor(clock, 1_000);
  await Promise.all([runningA, runningB]);
});

Deno.test("an acquiring write answered after the renew deadline does not count", async () => {
  const clock = new FakeClock();
  const lock = new FakeLeaseLock(clock);
  lock.latency.create = 12_000;
  const a = elector(lock, "a");
  const elected = whenSettled(clock, a.elected);
  const stop = new AbortController();
  const running = a.run(stop.signal);
  await runUntil(clock, () => elected() !== undefined, 30_000);
  // The attempt is cut off at 10 s; the retry 2 s later finds its own record and renews it.
  assert.equal(elected(), 12_000);
  assert.deepEqual(lock.calls, ["get", "create", "get", "update"]);
  stop.abort();
  await runFor(clock, 100);
  await running;
});

Deno.test("a leader renews every retry period and releases the lease when stopped", async () => {
  const clock = new FakeClock();
  const lock = new FakeLeaseLock(clock);
  const a = elector(lock, "a");
  const stop = new AbortController();
  const running = a.run(stop.signal);
  await runUntil(clock, () => a.isLeader, 1_000);
  await runFor(clock, 10_000);
  assert.equal(lock.store.writes.length, 1 + 5, "created, then renewed every 2 s");
  assert.equal(a.healthCheck(), undefined);
  stop.abort();
  await running;
  assert.equal(a.isLeader, false);
  assert.equal(lock.store.lease?.spec?.holderIdentity, "");
  assert.equal(lock.store.lease?.spec?.leaseDurationSeconds, 1);
});

Deno.test("a leader whose renewals hang is unhealthy after two retry periods", async () => {
  const clock = new FakeClock();
  const lock = new FakeLeaseLock(clock);
  const a = elector(lock, "a");
  const stop = new AbortController();
  const running = a.run(stop.signal);
  await runUntil(clock, () => a.isLeader, 1_000);
  lock.partitioned = true;
  await runFor(clock, 4_000);
  assert.equal(a.healthCheck(), undefined);
  await runFor(clock, 200);
  assert.match(a.healthCheck() ?? "", /not renewed for 4[12]00 ms/);
  await runUntil(clock, () => !a.isLeader, 10_000);
  assert.match(a.healthCheck() ?? "", /renew deadline/);
  await running;
  stop.abort();
});

Deno.test("a leader that finds another holder loses at once and leaves the Lease alone", async () => {
  const clock = new FakeClock();
  const store = new FakeLeaseStore(clock);
  const lock = new FakeLeaseLock(clock, store);
  const a = elector(lock, "a");
  const lost = whenSettled(clock, a.lost);
  const stop = new AbortController();
  const running = a.run(stop.signal);
  await runUntil(clock, () => a.isLeader, 1_000);
  store.update(store.lease!, { holderIdentity: "intruder", leaseDurationSeconds: 15 });
  const at = clock.now();
  await runUntil(clock, () => lost() !== undefined, 5_000);
  assert.ok(lost()! - at <= 2_000, "at the next renewal");
  assert.match((await a.lost).message, /taken over by intruder/);
  await running;
  assert.equal(store.lease?.spec?.holderIdentity, "intruder");
  stop.abort();
});
