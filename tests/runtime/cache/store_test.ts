import assert from "node:assert/strict";
import { NAMESPACE_INDEX, OWNER_INDEX, Store } from "../../../src/runtime/cache/store.ts";
import type { KubeObject } from "../../../src/runtime/client/resource.ts";

interface Thing extends KubeObject {
  spec: { environment?: string };
}

function thing(
  namespace: string,
  name: string,
  rv: string,
  environment?: string,
  owner?: string,
): Thing {
  return {
    metadata: {
      namespace,
      name,
      resourceVersion: rv,
      ...(owner
        ? {
          ownerReferences: [{
            apiVersion: "v1",
            kind: "X",
            name: "o",
            uid: owner,
            controller: true,
          }],
        }
        : {}),
    },
    spec: environment ? { environment } : {},
  };
}

Deno.test("Store.list() by a field index returns exactly the matches and follows updates", () => {
  const store = new Store<Thing>();
  store.indexField("env", (t) => (t.spec.environment ? [t.spec.environment] : []));
  store.upsert(thing("a", "1", "1", "prod"));
  store.upsert(thing("a", "2", "1", "dev"));
  store.upsert(thing("b", "3", "1", "prod"));
  store.upsert(thing("b", "4", "1"));
  const names = (list: Thing[]) => list.map((t) => t.metadata.name).sort();
  assert.deepEqual(names(store.list({ index: "env", value: "prod" })), ["1", "3"]);
  store.upsert(thing("a", "1", "2", "dev"));
  assert.deepEqual(names(store.list({ index: "env", value: "prod" })), ["3"]);
  assert.deepEqual(names(store.list({ index: "env", value: "dev" })), ["1", "2"]);
  store.delete("a/2");
  assert.deepEqual(names(store.list({ index: "env", value: "dev" })), ["1"]);
  assert.deepEqual(names(store.list({ namespace: "b" })), ["3", "4"]);
  assert.deepEqual(store.keysByIndex(NAMESPACE_INDEX, "a"), ["a/1"]);
  assert.equal(store.indexHas("env", "prod", "b/3"), true);
  assert.equal(store.indexHas("env", "prod", "a/1"), false);
  assert.equal(store.readonly().indexHas("env", "dev", "a/1"), true);
  assert.throws(() => store.indexHas("nope", "x", "a/1"), /No index named nope/);
});

Deno.test("Store indexes objects by controller owner UID", () => {
  const store = new Store<Thing>();
  store.upsert(thing("a", "1", "1", undefined, "uid-1"));
  store.upsert(thing("a", "2", "1", undefined, "uid-1"));
  store.upsert(thing("a", "3", "1"));
  assert.deepEqual(store.keysByIndex(OWNER_INDEX, "uid-1").sort(), ["a/1", "a/2"]);
});

Deno.test("Store index values go from one key to several and back without losing any", () => {
  const store = new Store<Thing>();
  const keys = () => store.keysByIndex(OWNER_INDEX, "u").sort();
  store.upsert(thing("a", "1", "1", undefined, "u"));
  store.upsert(thing("a", "1", "2", undefined, "u")); // the same object again: still one key
  assert.deepEqual(keys(), ["a/1"]);
  store.upsert(thing("a", "2", "1", undefined, "u"));
  store.upsert(thing("a", "3", "1", undefined, "u"));
  assert.deepEqual(keys(), ["a/1", "a/2", "a/3"]);
  store.delete("a/1");
  store.delete("a/3");
  assert.deepEqual(keys(), ["a/2"]);
  assert.equal(store.indexHas(OWNER_INDEX, "u", "a/2"), true);
  assert.equal(store.indexHas(OWNER_INDEX, "u", "a/1"), false);
  store.upsert(thing("a", "2", "2", undefined, "other")); // its owner changed
  assert.deepEqual(keys(), []);
  assert.deepEqual(store.keysByIndex(OWNER_INDEX, "other"), ["a/2"]);
  store.delete("a/2");
  assert.deepEqual(store.keysByIndex(OWNER_INDEX, "other"), []);
});

Deno.test("Store.indexField() indexes objects already cached and refuses duplicates", () => {
  const store = new Store<Thing>();
  store.upsert(thing("a", "1", "1", "prod"));
  store.indexField("env", (t) => (t.spec.environment ? [t.spec.environment] : []));
  assert.equal(store.list({ index: "env", value: "prod" }).length, 1);
  assert.throws(() => store.indexField("env", () => []), /already exists/);
  assert.throws(() => store.list({ index: "missing", value: "x" }), /No index/);
});

Deno.test("Store.replace() reports added, updated and deleted objects and swaps content", () => {
  const store = new Store<Thing>();
  store.upsert(thing("a", "keep", "1"));
  store.upsert(thing("a", "change", "1"));
  store.upsert(thing("a", "gone", "1"));
  const diff = store.replace([
    thing("a", "keep", "1"),
    thing("a", "change", "2"),
    thing("a", "new", "1"),
  ]);
  assert.deepEqual(diff.added.map((t) => t.metadata.name), ["new"]);
  assert.deepEqual(
    diff.updated.map((u) => [u.old.metadata.resourceVersion, u.object.metadata.resourceVersion]),
    [["1", "2"]],
  );
  assert.deepEqual(diff.deleted.map((t) => t.metadata.name), ["gone"]);
  assert.equal(store.size, 3);
  assert.equal(store.get("a/gone"), undefined);
});

Deno.test("Store hands out deep-frozen objects that callers cannot corrupt", () => {
  const store = new Store<Thing>();
  store.upsert(thing("a", "1", "1", "prod"));
  const cached = store.get("a/1")!;
  assert.throws(() => {
    cached.spec.environment = "dev";
  }, TypeError);
  assert.equal(store.list({ index: NAMESPACE_INDEX, value: "a" })[0]?.spec.environment, "prod");
});

Deno.test("Store leaves an object out of an index whose function throws, and stays consistent", () => {
  const failures: string[] = [];
  const store = new Store<Thing>({
    onIndexError: (error, index, object) =>
      failures.push(`${index} ${object.metadata.name}: ${(error as Error).message}`),
  });
  let broken = true;
  store.indexField("env", (t) => {
    if (broken && t.metadata.name === "2") throw new Error("no env");
    return t.spec.environment ? [t.spec.environment] : [];
  });
  store.upsert(thing("a", "1", "1", "prod"));
  store.upsert(thing("a", "2", "1", "prod"));
  assert.deepEqual(failures, ["env 2: no env"]);
  assert.deepEqual(store.keysByIndex("env", "prod"), ["a/1"]);
  assert.equal(store.size, 2);
  // Indexed while the function worked, removed while it throws: no stale key is left behind.
  broken = false;
  store.upsert(thing("a", "2", "2", "prod"));
  broken = true;
  store.delete("a/2");
  assert.deepEqual(store.keysByIndex("env", "prod"), ["a/1"]);
});

Deno.test("Store without an index error handler throws after completing the change", () => {
  const store = new Store<Thing>();
  store.indexField("env", () => {
    throw new Error("no env");
  });
  assert.throws(
    () => store.upsert(thing("a", "1", "1")),
    /Index env failed on a\/1: Error: no env/,
  );
  assert.equal(store.get("a/1")?.metadata.resourceVersion, "1");
});

Deno.test("Store.readonly() reads the same content and offers no way to write", () => {
  const store = new Store<Thing>();
  const view = store.readonly();
  store.upsert(thing("a", "1", "1"));
  assert.equal(view.size, 1);
  assert.equal(view.get("a/1"), store.get("a/1"));
  assert.deepEqual(view.list({ namespace: "a" }), store.list({ namespace: "a" }));
  assert.deepEqual(view.keysByIndex(NAMESPACE_INDEX, "a"), ["a/1"]);
  for (const write of ["upsert", "delete", "replace", "indexField"]) {
    assert.equal(write in view, false, `no ${write}`);
  }
  assert.ok(Object.isFrozen(view));
});
