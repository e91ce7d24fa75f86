import assert from "node:assert/strict";
import { isSubset, withAppliedHash } from "../../../src/runtime/client/apply.ts";

const ANNOTATION = "example.com/applied-hash";

Deno.test("isSubset() ignores fields only the live object has, and finds changed ones", () => {
  const desired = { spec: { replicas: 2, selector: { app: "db" } } };
  assert.equal(isSubset(desired, { spec: { replicas: 2, selector: { app: "db" }, x: 1 } }), true);
  assert.equal(isSubset(desired, { spec: { replicas: 3, selector: { app: "db" } } }), false);
  assert.equal(isSubset(desired, { spec: { replicas: 2 } }), false);
});

Deno.test("isSubset() matches keyed lists by key, in any order, with extra live elements", () => {
  const containers = [{ name: "postgres", env: [{ name: "A", value: "1" }] }];
  const live = [
    { name: "sidecar", image: "busybox" },
    { name: "postgres", env: [{ name: "INJECTED", value: "x" }, { name: "A", value: "1" }] },
  ];
  assert.equal(isSubset(containers, live), true);
  assert.equal(
    isSubset(containers, [{ name: "postgres", env: [{ name: "A", value: "2" }] }]),
    false,
  );
  assert.equal(isSubset(containers, [{ name: "sidecar" }]), false);
  const owners = [{ uid: "u1", controller: true }];
  assert.equal(isSubset(owners, [{ uid: "u0" }, { uid: "u1", controller: true }]), true);
  assert.equal(isSubset(owners, [{ uid: "u0", controller: true }]), false);
});

Deno.test("isSubset() keeps unkeyed lists atomic: same length, same order", () => {
  assert.equal(isSubset(["a", "b"], ["a", "b"]), true);
  assert.equal(isSubset(["a", "b"], ["a", "b", "c"]), false);
  assert.equal(isSubset(["a", "b"], ["b", "a"]), false);
  assert.equal(isSubset([{ port: 1 }], [{ port: 1 }, { port: 2 }]), false);
});

Deno.test("isSubset() takes an empty map or list as equal to an absent one", () => {
  assert.equal(isSubset({ resources: { limits: {}, requests: {} } }, {}), true);
  assert.equal(isSubset({ resources: { limits: { cpu: "1" } } }, {}), false);
  assert.equal(isSubset({ args: [] }, {}), true);
  assert.equal(isSubset({ enabled: false }, {}), false);
});

Deno.test("isSubset() asks `equal` only about scalars that differ", () => {
  const asked: unknown[] = [];
  const equal = (d: unknown, l: unknown) => (asked.push([d, l]), String(d) === String(l));
  assert.equal(isSubset({ cpu: 2, memory: "1Gi" }, { cpu: "2", memory: "1Gi" }, equal), true);
  assert.deepEqual(asked, [[2, "2"]]);
});

Deno.test("withAppliedHash() changes the hash when a field is removed, not when keys move", () => {
  const object = (limits: Record<string, string>) => ({
    metadata: { name: "db", annotations: { keep: "me" } },
    spec: { resources: { limits } },
  });
  const both = withAppliedHash(object({ cpu: "1", memory: "1Gi" }), ANNOTATION);
  const swapped = withAppliedHash(object({ memory: "1Gi", cpu: "1" }), ANNOTATION);
  const fewer = withAppliedHash(object({ cpu: "1" }), ANNOTATION);
  assert.equal(both.hash, swapped.hash);
  assert.notEqual(both.hash, fewer.hash);
  assert.match(both.hash, /^[0-9a-f]{20}$/);
  assert.deepEqual(both.object.metadata.annotations, { keep: "me", [ANNOTATION]: both.hash });
  // A stale hash already on the object does not feed into the new one.
  const again = withAppliedHash(both.object, ANNOTATION);
  assert.equal(again.hash, both.hash);
});

Deno.test("withAppliedHash() gives the hash earlier versions wrote, so an upgrade applies nothing", () => {
  // The value the first implementation (a `JSON.stringify` replacer sorting keys) computed.
  const object = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "db", labels: { b: "2", a: "1" }, annotations: { z: "x" } },
    spec: {
      ports: [{ port: 5432, name: "postgres", protocol: undefined }],
      selector: { database: "db", app: "database" },
      skip: undefined,
      list: [undefined, null, 1.5, "é\n"],
    },
  };
  assert.equal(withAppliedHash(object, ANNOTATION).hash, "8f1f0ceb36c8d14989cc");
});
