import assert from "node:assert/strict";
import { TokenBucket, WaitExceedsDeadlineError } from "../../../src/runtime/time/token_bucket.ts";
import { FakeClock } from "../fake_clock.ts";
import { isPending } from "../helpers.ts";

Deno.test("TokenBucket.allow() lets a full burst through, then one token per 1/rate", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 3, clock });
  assert.deepEqual([bucket.allow(), bucket.allow(), bucket.allow(), bucket.allow()], [
    true,
    true,
    true,
    false,
  ]);
  clock.advance(99);
  assert.equal(bucket.allow(), false);
  clock.advance(1);
  assert.equal(bucket.allow(), true);
  assert.equal(bucket.allow(), false);
});

Deno.test("TokenBucket starts full and refills no higher than burst", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 3, clock });
  assert.equal(bucket.tokens(), 3);
  bucket.allow();
  bucket.allow();
  assert.equal(bucket.tokens(), 1);
  clock.advance(10_000);
  assert.equal(bucket.tokens(), 3);
});

Deno.test("TokenBucket.reserve() goes into debt so callers are spaced out at the rate", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 1, clock });
  const delays = [bucket.reserve(), bucket.reserve(), bucket.reserve()].map((r) => r.delayMs);
  assert.deepEqual(delays, [0, 100, 200]);
  assert.equal(bucket.tokens(), -2);
  assert.equal(bucket.allow(), false);
  clock.advance(300);
  assert.equal(bucket.tokens(), 1);
});

Deno.test("TokenBucket.reserve().cancel() gives the latest reservation's token back once", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 1, clock });
  bucket.reserve();
  const second = bucket.reserve();
  assert.equal(bucket.tokens(), -1);
  second.cancel();
  assert.equal(bucket.tokens(), 0);
  second.cancel();
  assert.equal(bucket.tokens(), 0);
  assert.equal(bucket.reserve().delayMs, 100);
});

Deno.test("TokenBucket.reserve().cancel() restores nothing that later reservations built on", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 1, clock });
  bucket.reserve();
  const second = bucket.reserve();
  bucket.reserve();
  second.cancel();
  assert.equal(bucket.tokens(), -2);
});

Deno.test("TokenBucket.reserve().cancel() restores nothing once the reservation's time passed", () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 1, clock });
  bucket.reserve();
  const second = bucket.reserve();
  clock.advance(150);
  second.cancel();
  assert.equal(bucket.tokens(), 0.5);
});

Deno.test("TokenBucket with rate <= 0 or Infinity lets every call through", async () => {
  for (const rate of [0, -1, Infinity]) {
    const bucket = new TokenBucket({ rate, burst: 1, clock: new FakeClock() });
    for (let i = 0; i < 1000; i++) assert.equal(bucket.allow(), true);
    const reservation = bucket.reserve();
    assert.equal(reservation.ok, true);
    assert.equal(reservation.delayMs, 0);
    assert.equal(bucket.tokens(), Infinity);
    await bucket.wait();
  }
});

Deno.test("TokenBucket with burst 0 never grants a token", async () => {
  const bucket = new TokenBucket({ rate: 10, burst: 0, clock: new FakeClock() });
  assert.equal(bucket.allow(), false);
  const reservation = bucket.reserve();
  assert.equal(reservation.ok, false);
  assert.equal(reservation.delayMs, Infinity);
  await assert.rejects(bucket.wait(), RangeError);
});

Deno.test("new TokenBucket() rejects a NaN rate and a burst that is not a whole number >= 0", () => {
  assert.throws(() => new TokenBucket({ rate: NaN, burst: 1 }), RangeError);
  assert.throws(() => new TokenBucket({ rate: 1, burst: -1 }), RangeError);
  assert.throws(() => new TokenBucket({ rate: 1, burst: 1.5 }), RangeError);
});

Deno.test("TokenBucket.wait() resolves at once with a token, else when the token is due", async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 1, clock });
  await bucket.wait();
  const second = bucket.wait();
  assert.equal(clock.pendingTimers, 1);
  clock.advance(99);
  assert.equal(await isPending(second), true);
  clock.advance(1);
  await second;
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("TokenBucket.wait() rejects with the signal's reason and gives the token back", async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 1, clock });
  bucket.allow();
  const controller = new AbortController();
  const waiting = bucket.wait(controller.signal);
  assert.equal(bucket.tokens(), -1);
  const reason = new Error("Stopped");
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
  assert.equal(bucket.tokens(), 0);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("TokenBucket.wait() rejects at once, taking nothing, if the signal already aborted", async () => {
  const bucket = new TokenBucket({ rate: 10, burst: 1, clock: new FakeClock() });
  const reason = new Error("Already stopped");
  await assert.rejects(bucket.wait(AbortSignal.abort(reason)), (error) => error === reason);
  assert.equal(bucket.tokens(), 1);
});

Deno.test("TokenBucket.wait() fails at once, taking nothing, when the token would come after the deadline", async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 1, clock });
  bucket.allow();
  // The next token is due in 100 ms: a deadline 99 ms away cannot be met.
  await assert.rejects(bucket.wait(undefined, clock.now() + 99), WaitExceedsDeadlineError);
  assert.equal(bucket.tokens(), 0, "nothing was reserved");
  assert.equal(clock.pendingTimers, 0, "nothing waits");
  // A deadline the token can meet is waited for as before.
  const waiting = bucket.wait(undefined, clock.now() + 100);
  assert.equal(bucket.tokens(), -1);
  clock.advance(100);
  await waiting;
});

Deno.test("TokenBucket.wait() with deadlines leaves no backlog after a flood of callers that would time out", async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 10, clock });
  // 1,000 callers, each giving up after 1 s: only the burst plus one second of rate get a token.
  const outcomes = await Promise.allSettled(
    Array.from({ length: 1000 }, () => {
      const waiting = bucket.wait(undefined, clock.now() + 1000);
      return waiting;
    }).map(async (waiting, i) => {
      if (i === 0) clock.advance(1000); // Time passes once every caller has asked.
      return await waiting;
    }),
  );
  const granted = outcomes.filter((o) => o.status === "fulfilled").length;
  assert.equal(granted, 20, "10 from the burst and 10 over the second");
  assert.ok(
    outcomes.every((o) => o.status === "fulfilled" || o.reason instanceof WaitExceedsDeadlineError),
  );
  // The flood is over: the bucket is not in debt beyond the last granted token.
  assert.equal(bucket.tokens(), 0);
  clock.advance(100);
  assert.equal(bucket.allow(), true, "the next caller after the flood waits no longer than 1/rate");
});

Deno.test("TokenBucket.wait() without a deadline still queues (the old behaviour, for watches)", async () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket({ rate: 10, burst: 1, clock });
  const waits = [bucket.wait(), bucket.wait(), bucket.wait()];
  assert.equal(bucket.tokens(), -2);
  clock.advance(200);
  await Promise.all(waits);
});

Deno.test("TokenBucket holds callers to the configured rate on virtual time", async () => {
  const clock = new FakeClock();
  const qps = 20;
  const bucket = new TokenBucket({ rate: qps, burst: 1, clock });
  const grantedAt: number[] = [];
  let stop = false;
  // 8 callers loop as fast as the bucket lets them, as the client's requests do.
  const callers = Array.from({ length: 8 }, async () => {
    while (!stop) {
      await bucket.wait();
      grantedAt.push(clock.now());
    }
  });
  // Time moves in 25 ms steps; after each, every caller that got its token runs and asks again.
  for (let t = 0; t < 3_000; t += 25) {
    clock.advance(25);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  stop = true;
  clock.advance(1_000); // Lets the callers still waiting finish.
  await Promise.all(callers);
  const inWindow = grantedAt.filter((t) => t <= 3_000);
  assert.equal(inWindow.length, 1 + 3 * qps, "the burst of 1, then 20 per second for 3 s");
  const gaps = inWindow.slice(1).map((t, i) => t - inWindow[i]!);
  assert.ok(gaps.every((gap) => gap >= 0 && gap <= 1000 / qps), `gaps ${gaps}`);
});
