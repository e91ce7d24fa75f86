import assert from "node:assert/strict";
import { CreatedObjects, type InformerEvent, Store } from "../../../src/runtime/cache/mod.ts";
import type { KubeObject } from "../../../src/runtime/client/mod.ts";
import { FakeClock } from "../fake_clock.ts";

/** A store and the events an informer would deliver for it, driven by the test. */
function fakeCache() {
  const store = new Store<KubeObject>();
  const handlers = new Set<(event: InformerEvent<KubeObject>) => void>();
  const deliver = (type: InformerEvent<KubeObject>["type"], object: KubeObject) => {
    if (type === "deleted") store.delete(`${object.metadata.namespace}/${object.metadata.name}`);
    else store.upsert(object);
    for (const handler of handlers) handler({ type, object, initial: false });
  };
  const subscribe = (handler: (event: InformerEvent<KubeObject>) => void) => {
    handlers.add(handler);
    return () => handlers.delete(handler);
  };
  return { cache: { store: store.readonly(), subscribe }, deliver };
}

const object = (name: string, resourceVersion: string): KubeObject => ({
  metadata: { namespace: "ns", name, uid: `uid-${name}`, resourceVersion },
});

/** `ns/db` just created, its informer yet to deliver it. */
function createdDb(clock = new FakeClock(), ttlMs?: number) {
  const { cache, deliver } = fakeCache();
  const objects = new CreatedObjects(cache, { clock, ...(ttlMs ? { ttlMs } : {}) });
  const made = object("db", "1");
  objects.created(made);
  return { objects, made, deliver };
}

Deno.test("a created object stands in until the cache shows it; then the cache's copy wins", () => {
  const { cache, deliver } = fakeCache();
  const objects = new CreatedObjects(cache, { clock: new FakeClock() });
  assert.equal(objects.get("ns/db"), undefined);
  const made = object("db", "1");
  objects.created(made);
  assert.equal(objects.get("ns/db"), made, "before the watch event");
  const newer = object("db", "2");
  deliver("added", newer);
  assert.equal(objects.get("ns/db"), newer);
  deliver("deleted", newer);
  assert.equal(objects.get("ns/db"), undefined, "no stale creation behind a deletion");
});

Deno.test("a deletion seen before the creation drops the entry", () => {
  const { objects, made, deliver } = createdDb();
  // Created, then deleted by someone else: the informer may deliver only the deletion.
  deliver("deleted", made);
  assert.equal(objects.get("ns/db"), undefined);
});

Deno.test("a creation whose events never come stands in for ttlMs only (virtual time)", () => {
  const clock = new FakeClock();
  const { objects, made } = createdDb(clock, 60_000);
  clock.advance(59_999);
  assert.equal(objects.get("ns/db"), made);
  clock.advance(1);
  assert.equal(objects.get("ns/db"), undefined, "the reconciler creates it again");
});

Deno.test("events for other keys leave an entry alone", () => {
  const { objects, made, deliver } = createdDb();
  deliver("added", object("other", "5"));
  assert.equal(objects.get("ns/db"), made);
});
