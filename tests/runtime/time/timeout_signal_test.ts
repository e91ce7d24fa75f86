import assert from "node:assert/strict";
import { timeoutSignal } from "../../../src/runtime/time/mod.ts";
import { FakeClock } from "../fake_clock.ts";

Deno.test("timeoutSignal() aborts on its clock's time with a TimeoutError, and says it expired", () => {
  const clock = new FakeClock();
  const timeout = timeoutSignal(clock, 1_000);
  clock.advance(999);
  assert.equal(timeout.signal.aborted, false);
  clock.advance(1);
  assert.equal(timeout.signal.aborted, true);
  assert.equal((timeout.signal.reason as DOMException).name, "TimeoutError");
  assert.equal(timeout.expired, true);
});

Deno.test("timeoutSignal() follows its parent without expiring, and cancel() disarms it", () => {
  const clock = new FakeClock();
  const parent = new AbortController();
  const timeout = timeoutSignal(clock, 1_000, parent.signal);
  parent.abort(new Error("stop"));
  assert.equal(timeout.signal.aborted, true);
  assert.equal(timeout.expired, false);
  const other = timeoutSignal(clock, 1_000);
  other.cancel();
  assert.equal(clock.pendingTimers, 1);
  clock.advance(5_000);
  assert.equal(other.signal.aborted, false);
});
