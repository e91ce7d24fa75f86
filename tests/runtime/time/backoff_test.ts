import assert from "node:assert/strict";
import { Backoff, delay, withBackoff } from "../../../src/runtime/time/mod.ts";
import { FakeClock } from "../fake_clock.ts";
import { isPending, seededRandom } from "../helpers.ts";

Deno.test("Backoff grows from 0.8 s to 30 s with jitter inside its bounds", () => {
  const backoff = new Backoff({ clock: new FakeClock(), random: seededRandom(7) });
  for (const base of [800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000]) {
    const ms = backoff.next();
    assert.ok(ms >= base * 0.5 && ms <= Math.min(base * 1.5, 30_000), `${ms} for ${base}`);
  }
});

Deno.test("Backoff starts over only after 2 minutes without a failure", () => {
  const clock = new FakeClock();
  const backoff = new Backoff({ clock, jitter: 0 });
  const failAfter = (healthyMs: number) => {
    clock.advance(healthyMs);
    const ms = backoff.next();
    clock.advance(ms); // the delay itself is not healthy time
    return ms;
  };
  assert.deepEqual([0, 0, 0].map(() => failAfter(0)), [800, 1_600, 3_200]);
  assert.equal(failAfter(119_999), 6_400);
  assert.equal(failAfter(120_000), 800);
});

Deno.test("withBackoff() keeps growing the delay across successes between failures", async () => {
  const clock = new FakeClock();
  const backoff = new Backoff({ clock, jitter: 0 });
  const slept: number[] = [];
  async function* relists() {
    for (let i = 0; i < 3; i++) {
      yield { type: "init" };
      yield { type: "error" };
    }
  }
  const stop = new AbortController();
  const passing = Array.fromAsync(withBackoff(relists(), backoff, stop.signal));
  while (slept.length < 3) {
    slept.push(await clock.nextTimer());
    clock.advance(slept.at(-1)!);
  }
  assert.equal((await passing).length, 6);
  assert.deepEqual(slept, [800, 1_600, 3_200]);
});

Deno.test("withBackoff() ends quietly when stopped during a delay", async () => {
  const clock = new FakeClock();
  async function* failing() {
    yield { type: "error" };
    yield { type: "never reached" };
  }
  const stop = new AbortController();
  const passing = Array.fromAsync(withBackoff(failing(), new Backoff({ clock }), stop.signal));
  await clock.nextTimer();
  stop.abort();
  assert.deepEqual(await passing, [{ type: "error" }]);
  assert.equal(clock.pendingTimers, 0);
});

Deno.test("delay() resolves on the clock's time and rejects with the signal's reason on abort", async () => {
  const clock = new FakeClock();
  const waited = delay(1_000, undefined, clock);
  clock.advance(999);
  assert.ok(await isPending(waited));
  clock.advance(1);
  await waited;
  const stop = new AbortController();
  const aborted = delay(1_000, stop.signal, clock);
  const reason = new Error("stopping");
  stop.abort(reason);
  await assert.rejects(aborted, (error) => error === reason);
  assert.equal(clock.pendingTimers, 0);
  await assert.rejects(delay(1, stop.signal, clock), (error) => error === reason);
});
