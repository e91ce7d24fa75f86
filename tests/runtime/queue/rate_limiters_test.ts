import assert from "node:assert/strict";
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  type RateLimiter,
} from "../../../src/runtime/queue/rate_limiters.ts";
import { TokenBucket } from "../../../src/runtime/time/token_bucket.ts";
import { FakeClock } from "../fake_clock.ts";

/** A limiter with fixed answers that records what it was told to forget. */
class FixedRateLimiter implements RateLimiter<string> {
  readonly forgotten: string[] = [];
  constructor(readonly delayMs: number, readonly requeues: number) {}
  when(): number {
    return this.delayMs;
  }
  forget(item: string): void {
    this.forgotten.push(item);
  }
  numRequeues(): number {
    return this.requeues;
  }
}

Deno.test("ItemExponentialFailureRateLimiter.when() doubles from 5 ms and caps at 1000 s", () => {
  const limiter = new ItemExponentialFailureRateLimiter<string>();
  const delays = Array.from({ length: 25 }, () => limiter.when("a"));
  assert.deepEqual(delays.slice(0, 5), [5, 10, 20, 40, 80]);
  assert.deepEqual(delays, delays.map((_, i) => Math.min(5 * 2 ** i, 1_000_000)));
  assert.equal(delays[17], 655_360);
  assert.equal(delays[18], 1_000_000);
  assert.equal(limiter.numRequeues("a"), 25);
});

Deno.test("ItemExponentialFailureRateLimiter counts failures per item", () => {
  const limiter = new ItemExponentialFailureRateLimiter<string>({
    baseDelayMs: 1,
    maxDelayMs: 100,
  });
  assert.deepEqual([limiter.when("a"), limiter.when("a"), limiter.when("b")], [1, 2, 1]);
  assert.equal(limiter.numRequeues("a"), 2);
  assert.equal(limiter.numRequeues("b"), 1);
  assert.equal(limiter.numRequeues("c"), 0);
});

Deno.test("ItemExponentialFailureRateLimiter.forget() starts the item's backoff afresh", () => {
  const limiter = new ItemExponentialFailureRateLimiter<string>();
  limiter.when("a");
  limiter.when("a");
  limiter.forget("a");
  assert.equal(limiter.numRequeues("a"), 0);
  assert.equal(limiter.when("a"), 5);
});

Deno.test("ItemExponentialFailureRateLimiter stays at the cap after thousands of failures", () => {
  const capped = new ItemExponentialFailureRateLimiter<string>();
  const zero = new ItemExponentialFailureRateLimiter<string>({ baseDelayMs: 0 });
  for (let i = 0; i < 5000; i++) {
    capped.when("a");
    zero.when("a");
  }
  assert.equal(capped.when("a"), 1_000_000);
  assert.equal(zero.when("a"), 0);
});

Deno.test("new ItemExponentialFailureRateLimiter() rejects negative or NaN delays", () => {
  assert.throws(() => new ItemExponentialFailureRateLimiter({ baseDelayMs: -1 }), RangeError);
  assert.throws(() => new ItemExponentialFailureRateLimiter({ maxDelayMs: NaN }), RangeError);
});

Deno.test("BucketRateLimiter.when() lets a burst through, then spaces items at the rate", () => {
  const clock = new FakeClock();
  const limiter = new BucketRateLimiter<string>(new TokenBucket({ rate: 10, burst: 2, clock }));
  assert.deepEqual(["a", "b", "c", "d"].map((item) => limiter.when(item)), [0, 0, 100, 200]);
  clock.advance(1000);
  assert.equal(limiter.when("e"), 0);
  assert.equal(limiter.numRequeues("a"), 0);
});

Deno.test("MaxOfRateLimiter takes the longest delay and largest count, and forgets in all", () => {
  const short = new FixedRateLimiter(5, 7);
  const long = new FixedRateLimiter(50, 3);
  const limiter = new MaxOfRateLimiter(short, long);
  assert.equal(limiter.when("a"), 50);
  assert.equal(limiter.numRequeues("a"), 7);
  limiter.forget("a");
  assert.deepEqual([short.forgotten, long.forgotten], [["a"], ["a"]]);
});

Deno.test("MaxOfRateLimiter records the retry in every limiter", () => {
  const clock = new FakeClock();
  const limiter = new MaxOfRateLimiter<string>(
    new ItemExponentialFailureRateLimiter({ baseDelayMs: 1 }),
    new BucketRateLimiter(new TokenBucket({ rate: 1, burst: 1, clock })),
  );
  assert.deepEqual([limiter.when("a"), limiter.when("a"), limiter.when("a")], [1, 1000, 2000]);
  assert.equal(limiter.numRequeues("a"), 3);
});

Deno.test("defaultControllerRateLimiter() backs off from 5 ms within a 10/s bucket of burst 100", () => {
  const limiter = defaultControllerRateLimiter<string>(new FakeClock());
  assert.deepEqual([limiter.when("a"), limiter.when("a"), limiter.when("a")], [5, 10, 20]);
  const firstFailures = Array.from({ length: 97 }, (_, i) => limiter.when(`item-${i}`));
  assert.deepEqual(firstFailures, firstFailures.map(() => 5));
  assert.equal(limiter.when("past-burst"), 100);
  assert.equal(limiter.when("past-burst-2"), 200);
  limiter.forget("a");
  assert.equal(limiter.numRequeues("a"), 0);
});
