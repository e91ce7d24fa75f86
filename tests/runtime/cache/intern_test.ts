import assert from "node:assert/strict";
import { intern, StringTable, SubtreeTable } from "../../../src/runtime/cache/mod.ts";

// Equal strings are indistinguishable in JavaScript, so these tests check what the table holds
// and that values never change; `deno task bench:heap` measures the memory it saves.

Deno.test("StringTable keeps a string used again across generations and drops one seen once", () => {
  const table = new StringTable(2);
  table.intern("hot");
  table.intern("a");
  table.intern("b"); // the newer generation was full: (hot, a) became the older one
  table.intern("hot"); // seen again: moves to the newer generation (b, hot)
  table.intern("c"); // full again: (b, hot) becomes the older one, (hot, a) is dropped
  assert.equal(table.has("a"), false, "a string seen once ages out");
  assert.equal(table.has("hot"), true, "a string seen again stays");
  assert.equal(table.has("c"), true);
});

Deno.test("StringTable.intern() returns an equal string", () => {
  const table = new StringTable(1);
  for (const value of ["x", "y", "x", "", "y"]) assert.equal(table.intern(value), value);
});

Deno.test("intern() shares equal parts of different objects, frozen, and changes no value", () => {
  const strings = new StringTable();
  const subtrees = new SubtreeTable();
  const make = (name: string) => ({
    metadata: { name, namespace: "memory", labels: { app: "postgres" } },
    spec: { probe: { exec: { command: ["/bin/sh", "-c", "pg_isready"] } }, ports: [5432], name },
  });
  const a = intern(make("a"), strings, subtrees);
  const b = intern(make("b"), strings, subtrees);
  assert.deepEqual(a, make("a"));
  assert.deepEqual(b, make("b"));
  assert.equal(a.spec.probe, b.spec.probe);
  assert.equal(a.spec.ports, b.spec.ports);
  assert.equal(a.metadata.labels, b.metadata.labels);
  assert.notEqual(a.spec, b.spec, "parts that differ stay apart");
  assert.equal(Object.isFrozen(a.spec.probe.exec.command), true);
  for (const value of ["memory", "pg_isready", "a"]) assert.equal(strings.has(value), true, value);
});

Deno.test("intern() never shares a part holding a UID or resourceVersion, but shares inside it", () => {
  const strings = new StringTable();
  const subtrees = new SubtreeTable();
  const owner = (uid: string) => ({ kind: "Database", name: "db", uid, labels: { a: "b" } });
  const [x, y] = [intern(owner("u-1"), strings, subtrees), intern(owner("u-1"), strings, subtrees)];
  assert.notEqual(x, y);
  assert.equal(x.labels, y.labels);
  assert.equal(Object.isFrozen(x), false, "the object itself is the cache's to freeze");
  assert.equal(strings.has("u-1"), false);
  const versions = [{ resourceVersion: "7" }, { resourceVersion: "7" }].map((v) =>
    intern(v, strings, subtrees)
  );
  assert.notEqual(versions[0], versions[1]);
  assert.equal(strings.has("7"), false);
});

Deno.test("intern() tells key order, types and nesting apart", () => {
  const subtrees = new SubtreeTable();
  const strings = new StringTable();
  const parts = [{ a: 1, b: 2 }, { b: 2, a: 1 }, { a: "1", b: 2 }, { a: [1], b: 2 }, {
    a: [[1]],
    b: 2,
  }]
    .map((part) => intern({ part }, strings, subtrees).part);
  assert.equal(new Set(parts).size, parts.length);
  assert.deepEqual(parts[1], { b: 2, a: 1 });
  assert.deepEqual(Object.keys(parts[1]!), ["b", "a"]);
});

Deno.test("SubtreeTable drops a part seen once after two generations and keeps a reused one", () => {
  const subtrees = new SubtreeTable(2);
  const strings = new StringTable();
  const put = (value: object) => intern(value, strings, subtrees);
  const hot = put({ hot: true });
  const once = put({ once: true });
  put({ b: true }); // (hot, once) become the older generation
  assert.equal(put({ hot: true }), hot, "seen again: moves to the newer generation");
  put({ c: true }); // (b, hot) become the older generation; (hot, once) are dropped
  assert.equal(put({ hot: true }), hot);
  assert.notEqual(put({ once: true }), once, "aged out: a new canonical copy");
});

Deno.test("intern() leaves frozen (already cached) objects alone", () => {
  const table = new StringTable();
  const frozen = Object.freeze({ name: "x" });
  assert.equal(intern(frozen, table), frozen);
  assert.equal(table.has("x"), false);
});
