/** decidePrimary() on virtual time: when the primary moves, and in how many steps. */
import assert from "node:assert/strict";
import {
  decidePrimary,
  FENCE_GRACE_MS,
  type InstanceView,
  type PrimaryState,
} from "../../../src/database/ha/mod.ts";

const NOW = 1_000_000;

function view(name: string, extra: Partial<InstanceView> = {}): InstanceView {
  return { name, exists: true, ready: true, nodeLost: false, nodeUnschedulable: false, ...extra };
}

function state(extra: Partial<PrimaryState> = {}): PrimaryState {
  return { current: "db-0", failoverDelay: 0, ...extra };
}

const healthy = [view("db-0"), view("db-1"), view("db-2")];

Deno.test("decidePrimary() leaves a healthy primary alone", () => {
  assert.deepEqual(decidePrimary(state(), healthy, NOW), { kind: "steady" });
});

Deno.test("decidePrimary() fails over at once when the primary's node is lost, fenced", () => {
  const instances = [view("db-0", { nodeLost: true, nodeLostSince: NOW - 1 }), ...healthy.slice(1)];
  const decision = decidePrimary(state(), instances, NOW);
  assert.equal(decision.kind, "failover");
  assert.ok(decision.kind === "failover" && decision.fenced && decision.reason === "NodeLost");
});

Deno.test("decidePrimary() waits spec.failoverDelay after the primary became not ready", () => {
  const instances = [view("db-0", { ready: false, readySince: NOW - 4_000 }), ...healthy.slice(1)];
  assert.deepEqual(decidePrimary(state({ failoverDelay: 10 }), instances, NOW), {
    kind: "steady",
    recheckAfterMs: 6_000,
  });
  const decision = decidePrimary(state({ failoverDelay: 10 }), instances, NOW + 6_000);
  assert.equal(decision.kind, "failover");
  // Its node is alive: the old primary must first see the target and stop.
  assert.ok(decision.kind === "failover" && !decision.fenced);
});

Deno.test("decidePrimary() promotes the target only once the old primary is stopped", () => {
  const during = state({ target: "db-1", targetSince: NOW });
  assert.deepEqual(decidePrimary(during, healthy, NOW + 1_000, { oldStopped: false }), {
    kind: "fencing",
    recheckAfterMs: 500,
  });
  assert.deepEqual(decidePrimary(during, healthy, NOW + 1_000, { oldStopped: true }), {
    kind: "promote",
    target: "db-1",
  });
  // Still serving after the grace: its pod is deleted, and the target waits for it to go.
  const late = decidePrimary(during, healthy, NOW + FENCE_GRACE_MS, { oldStopped: false });
  assert.equal(late.kind, "stop");
  assert.ok(late.kind === "stop" && late.pod === "db-0");
  const deleting = [view("db-0", { exists: false, terminating: true }), ...healthy.slice(1)];
  assert.equal(
    decidePrimary(during, deleting, NOW + FENCE_GRACE_MS, { oldStopped: true }).kind,
    "fencing",
    "a terminating server may still serve the sessions it has",
  );
  const gone = [view("db-0", { exists: false }), ...healthy.slice(1)];
  assert.deepEqual(decidePrimary(during, gone, NOW + FENCE_GRACE_MS), {
    kind: "promote",
    target: "db-1",
  });
});

Deno.test("decidePrimary() stops a primary without an instance manager before promoting", () => {
  const unmanaged = [view("db-0", { managed: false }), view("db-1", { managed: true })];
  const decision = decidePrimary(state({ target: "db-1", targetSince: NOW }), unmanaged, NOW, {
    oldStopped: false,
  });
  assert.equal(decision.kind, "stop");
});

Deno.test("decidePrimary() completes when the target answers as the primary", () => {
  const promoted = state({ current: "db-1", target: "db-1" });
  assert.deepEqual(decidePrimary(promoted, healthy, NOW, { targetIsPrimary: false }), {
    kind: "steady",
    recheckAfterMs: 1_000,
  });
  assert.deepEqual(decidePrimary(promoted, healthy, NOW, { targetIsPrimary: true }), {
    kind: "complete",
    target: "db-1",
  });
});

Deno.test("decidePrimary() switches over to a requested ready standby, and refuses others", () => {
  const asked = decidePrimary(state({ requested: "db-2" }), healthy, NOW);
  assert.ok(asked.kind === "switchover" && asked.to === "db-2");
  assert.equal(decidePrimary(state({ requested: "db-0" }), healthy, NOW).kind, "steady");
  const notReady = [...healthy.slice(0, 2), view("db-2", { ready: false })];
  assert.equal(decidePrimary(state({ requested: "db-2" }), notReady, NOW).kind, "refused");
  assert.equal(decidePrimary(state({ requested: "db-7" }), healthy, NOW).kind, "refused");
});

Deno.test("decidePrimary() moves the primary off a cordoned node when a standby can take it", () => {
  const cordoned = [view("db-0", { nodeUnschedulable: true }), ...healthy.slice(1)];
  assert.equal(decidePrimary(state(), cordoned, NOW).kind, "switchover");
  const allCordoned = healthy.map((v) => ({ ...v, nodeUnschedulable: true }));
  assert.deepEqual(decidePrimary(state(), allCordoned, NOW), { kind: "steady" });
});

Deno.test("decidePrimary() treats a missing primary pod as lost and already stopped", () => {
  const decision = decidePrimary(
    state(),
    [view("db-0", { exists: false }), ...healthy.slice(1)],
    NOW,
  );
  assert.ok(decision.kind === "failover" && decision.fenced);
});

Deno.test("decidePrimary() does not fail over from a primary that is still starting", () => {
  const starting = [view("db-0", { ready: false, starting: true }), ...healthy.slice(1)];
  assert.deepEqual(decidePrimary(state(), starting, NOW), { kind: "steady" });
});

Deno.test("decidePrimary() does not fail over while a new Database's pods are being made", () => {
  const none = [view("db-0", { exists: false, ready: false }), view("db-1", { ready: false })];
  assert.deepEqual(decidePrimary(state(), none, NOW), { kind: "steady" });
});

Deno.test("decidePrimary() chooses again when the target goes before it was promoted", () => {
  const evicted = [view("db-0"), view("db-1", { exists: false, ready: false }), view("db-2")];
  assert.deepEqual(
    decidePrimary(state({ target: "db-1", targetSince: NOW }), evicted, NOW, { oldStopped: true }),
    { kind: "abandon", target: "db-1" },
  );
});

Deno.test("decidePrimary() keeps a target that stopped streaming when the old primary stopped", () => {
  // A standby is ready while it streams: a switchover's stopped primary makes the target not
  // ready. It still answers as a standby, so it is promoted, not abandoned for the old primary.
  const unstreamed = [view("db-0"), view("db-1", { ready: false }), view("db-2")];
  const target = state({ target: "db-1", targetSince: NOW });
  assert.deepEqual(
    decidePrimary(target, unstreamed, NOW, { oldStopped: true, targetAnswers: true }),
    { kind: "promote", target: "db-1" },
  );
  assert.deepEqual(
    decidePrimary(target, unstreamed, NOW, { oldStopped: true, targetAnswers: false }),
    { kind: "abandon", target: "db-1" },
  );
});

Deno.test("decidePrimary() fails over from a promoted target lost before it answered", () => {
  const lost = [view("db-0", { exists: false, ready: false }), view("db-1"), view("db-2")];
  const decision = decidePrimary(state({ target: "db-0" }), lost, NOW, { targetIsPrimary: false });
  assert.equal(decision.kind, "failover");
  assert.deepEqual(
    decidePrimary(state({ target: "db-0" }), healthy, NOW, { targetIsPrimary: false }),
    { kind: "steady", recheckAfterMs: 1_000 },
  );
});
