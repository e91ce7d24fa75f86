import assert from "node:assert/strict";
import {
  isTerminal,
  reconcileOutcome,
  TerminalError,
} from "../../../src/runtime/controller/reconcile.ts";
import { ownerIs } from "../../../src/runtime/controller/controller.ts";
import { CORE } from "../../../src/runtime/client/mod.ts";
import { LOW_PRIORITY } from "../../../src/runtime/queue/mod.ts";
import { DATABASE_RESOURCE } from "../../../src/database/api/types.ts";

Deno.test("reconcileOutcome(): each way a reconcile ends, its queue move and metric label", () => {
  const p = LOW_PRIORITY;
  assert.deepEqual(reconcileOutcome({ result: undefined }, p), {
    action: { kind: "forget" },
    result: "success",
    error: false,
    terminal: false,
  });
  assert.deepEqual(reconcileOutcome({ result: {} }, p).result, "success");
  assert.deepEqual(reconcileOutcome({ result: { requeueAfterMs: 0 } }, p).result, "success");
  assert.deepEqual(reconcileOutcome({ result: { requeueAfterMs: 5_000 } }, p), {
    action: { kind: "forgetAndAddAfter", delayMs: 5_000, priority: p },
    result: "requeue_after",
    error: false,
    terminal: false,
  });
  assert.deepEqual(
    reconcileOutcome({ result: { requeueAfterMs: 5_000, priority: 7 } }, p).action,
    { kind: "forgetAndAddAfter", delayMs: 5_000, priority: 7 },
    "a result may name its own priority",
  );
  assert.deepEqual(
    reconcileOutcome({ result: { requeue: true, requeueAfterMs: 10 } }, 3).result,
    "requeue_after",
    "requeueAfter wins over requeue",
  );
  assert.deepEqual(reconcileOutcome({ result: { requeue: true } }, p), {
    action: { kind: "addRateLimited", priority: p },
    result: "requeue",
    error: false,
    terminal: false,
  });
  assert.deepEqual(reconcileOutcome({ error: new Error("boom") }, p), {
    action: { kind: "addRateLimited", priority: p },
    result: "error",
    error: true,
    terminal: false,
  });
  assert.deepEqual(reconcileOutcome({ error: new TerminalError("never") }, p), {
    action: { kind: "forget" },
    result: "error",
    error: true,
    terminal: true,
  });
  assert.equal(reconcileOutcome({ error: "a string" }, 0).action.kind, "addRateLimited");
});

Deno.test("isTerminal() finds a TerminalError however it is wrapped", () => {
  class InvalidSpec extends TerminalError {}
  const terminal = new TerminalError("invalid");
  assert.equal(isTerminal(terminal), true);
  assert.equal(isTerminal(new InvalidSpec("subclass")), true);
  assert.equal(isTerminal(new Error("wrapped", { cause: terminal })), true);
  assert.equal(
    isTerminal(new Error("twice", { cause: new Error("once", { cause: terminal }) })),
    true,
  );
  assert.equal(isTerminal(new AggregateError([new Error("x"), terminal])), true);
  assert.equal(isTerminal(new Error("plain")), false);
  assert.equal(isTerminal(new Error("plain", { cause: new Error("cause") })), false);
  assert.equal(isTerminal(undefined), false);
  assert.equal(isTerminal("TerminalError"), false);
  const cyclic = new Error("cyclic");
  cyclic.cause = new Error("back", { cause: cyclic });
  assert.equal(isTerminal(cyclic), false);
});

Deno.test("ownerIs() matches an owner reference by group and kind, whatever its version", () => {
  const ref = (apiVersion: string, kind: string) => ({ apiVersion, kind, name: "x", uid: "u" });
  assert.equal(ownerIs(ref("database.example.com/v1", "Database"), DATABASE_RESOURCE), true);
  assert.equal(ownerIs(ref("database.example.com/v1beta1", "Database"), DATABASE_RESOURCE), true);
  assert.equal(ownerIs(ref("other.example.com/v1", "Database"), DATABASE_RESOURCE), false);
  assert.equal(ownerIs(ref("database.example.com/v1", "Backup"), DATABASE_RESOURCE), false);
  assert.equal(ownerIs(ref("v1", "ConfigMap"), CORE.configMaps), true);
  assert.equal(ownerIs(ref("apps/v1", "ConfigMap"), CORE.configMaps), false);
});
