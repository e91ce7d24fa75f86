import assert from "node:assert/strict";
import { TokenBucket } from "../../../src/runtime/time/token_bucket.ts";
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
