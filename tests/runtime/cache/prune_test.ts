import assert from "node:assert/strict";
import {
  mergeShapes,
  projection,
  pruneTo,
  type Shape,
  shapeOf,
} from "../../../src/runtime/cache/prune.ts";

Deno.test("pruneTo() keeps named keys, whole subtrees and every array element's shape", () => {
  const value = {
    keep: { a: 1, b: 2 },
    whole: { x: { y: 1 } },
    list: [{ name: "a", value: "1", extra: true }, { name: "b", valueFrom: {}, extra: true }],
    drop: "me",
  };
  const shape: Shape = {
    keep: { a: true },
    whole: true,
    list: [{ name: true, value: true }, { valueFrom: true }],
  };
  assert.deepEqual(pruneTo(value, shape), {
    keep: { a: 1 },
    whole: { x: { y: 1 } },
    list: [{ name: "a", value: "1" }, { name: "b", valueFrom: {} }],
  });
});

Deno.test("shapeOf() and mergeShapes() describe every field of the examples", () => {
  assert.deepEqual(shapeOf({ a: [{ b: 1 }, { c: 2 }], d: "x" }), {
    a: [{ b: true, c: true }],
    d: true,
  });
  assert.deepEqual(mergeShapes([{ a: true }, { a: { b: true }, c: true }]), { a: true, c: true });
});

Deno.test("projection() keeps identity metadata and drops managedFields and unnamed fields", () => {
  const project = projection<
    { metadata: Record<string, unknown>; spec?: unknown; status?: unknown }
  >({
    spec: { replicas: true },
  });
  const projected = project({
    metadata: {
      name: "n",
      namespace: "ns",
      uid: "u",
      resourceVersion: "1",
      managedFields: [{}],
      labels: { a: "b" },
    },
    spec: { replicas: 2, serviceName: "s" },
    status: { readyReplicas: 1 },
  });
  assert.deepEqual(projected, {
    metadata: { name: "n", namespace: "ns", uid: "u", resourceVersion: "1", labels: { a: "b" } },
    spec: { replicas: 2 },
  });
});
