import assert from "node:assert/strict";
import {
  applyWatcherEvent,
  type InformerEvent,
  storeWriter,
  type WatcherEvent,
} from "../../../src/runtime/cache/mod.ts";
import type { KubeObject } from "../../../src/runtime/client/mod.ts";

function obj(name: string, rv: string): KubeObject {
  return { metadata: { namespace: "ns", name, resourceVersion: rv } };
}

function applyAll(
  writer: ReturnType<typeof storeWriter<KubeObject>>,
  events: WatcherEvent<KubeObject>[],
): string[] {
  const describe = (c: InformerEvent<KubeObject>) =>
    `${c.type} ${c.object.metadata.name}@${c.object.metadata.resourceVersion}` +
    (c.old ? ` from @${c.old.metadata.resourceVersion}` : "") + (c.initial ? " initial" : "");
  return events.flatMap((event) => applyWatcherEvent(writer, event).map(describe));
}

Deno.test("applyWatcherEvent() fills the store only at initDone, marking the first list initial", () => {
  const writer = storeWriter<KubeObject>();
  const changes = applyAll(writer, [
    { type: "init" },
    { type: "initApply", object: obj("a", "1") },
    { type: "initApply", object: obj("b", "1") },
  ]);
  assert.deepEqual(changes, []);
  assert.equal(writer.store.size, 0, "nothing is visible before the list is complete");
  assert.deepEqual(applyAll(writer, [{ type: "initDone", resourceVersion: "1" }]), [
    "added a@1 initial",
    "added b@1 initial",
  ]);
  assert.equal(writer.synced, true);
});

Deno.test("applyWatcherEvent() swaps in a relist and reports what changed while away", () => {
  const writer = storeWriter<KubeObject>();
  applyAll(writer, [
    { type: "init" },
    { type: "initApply", object: obj("a", "1") },
    { type: "initApply", object: obj("b", "1") },
    { type: "initDone", resourceVersion: "1" },
  ]);
  // A relist that was interrupted and started over: the first attempt's buffer is dropped.
  const changes = applyAll(writer, [
    { type: "init" },
    { type: "initApply", object: obj("stale", "2") },
    { type: "init" },
    { type: "initApply", object: obj("b", "3") },
    { type: "initApply", object: obj("c", "3") },
    { type: "initDone", resourceVersion: "3" },
  ]);
  assert.deepEqual(changes, ["added c@3", "updated b@3 from @1", "deleted a@1"]);
  assert.deepEqual(writer.store.list().map((o) => o.metadata.name).sort(), ["b", "c"]);
});

Deno.test("applyWatcherEvent() applies watch events and skips an unchanged resourceVersion", () => {
  const writer = storeWriter<KubeObject>();
  applyAll(writer, [{ type: "init" }, { type: "initDone", resourceVersion: "1" }]);
  const changes = applyAll(writer, [
    { type: "apply", object: obj("a", "2") },
    { type: "apply", object: obj("a", "2") },
    { type: "bookmark", resourceVersion: "3" },
    { type: "apply", object: obj("a", "4") },
    { type: "delete", object: obj("a", "5") },
    { type: "delete", object: obj("unknown", "6") },
    { type: "error", error: new Error("watch broke") },
  ]);
  assert.deepEqual(changes, [
    "added a@2",
    "updated a@4 from @2",
    "deleted a@4",
    "deleted unknown@6",
  ]);
  assert.equal(writer.store.size, 0);
});
