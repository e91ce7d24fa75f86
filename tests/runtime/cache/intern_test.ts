import assert from "node:assert/strict";
import { internStrings, StringTable } from "../../../src/runtime/cache/mod.ts";

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

Deno.test("internStrings() interns strings in nested objects and arrays, never UIDs or versions", () => {
  const table = new StringTable();
  const object = {
    metadata: { namespace: "memory", uid: "u-1", resourceVersion: "7" },
    spec: { args: ["script", 3, null, true], nested: [{ name: "db-1" }] },
  };
  const before = structuredClone(object);
  assert.equal(internStrings(object, table), object);
  assert.deepEqual(object, before);
  for (const value of ["memory", "script", "db-1"]) assert.equal(table.has(value), true, value);
  assert.equal(table.has("u-1"), false);
  assert.equal(table.has("7"), false);
});

Deno.test("internStrings() leaves frozen (already cached) objects alone", () => {
  const table = new StringTable();
  const frozen = Object.freeze({ name: "x" });
  assert.equal(internStrings(frozen, table), frozen);
  assert.equal(table.has("x"), false);
});
