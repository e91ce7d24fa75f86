import assert from "node:assert/strict";
import {
  compareQuantities,
  databaseSpecSchema,
  isQuantity,
  parseDatabaseSpec,
  parseQuantity,
  QuantityParseError,
} from "../../../src/database/mod.ts";
import { allowedTransitions, invalidSpecs, transitionCases, validSpecs } from "./corpus.ts";

const Ki = 2 ** 10;
const Gi = 2 ** 30;

Deno.test("the corpus has at least 8 valid and 22 invalid specs, all with distinct names", () => {
  assert.ok(validSpecs.length >= 8, `${validSpecs.length} valid specs`);
  assert.ok(invalidSpecs.length >= 22, `${invalidSpecs.length} invalid specs`);
  const names = [...validSpecs, ...invalidSpecs].map((c) => c.name);
  assert.equal(new Set(names).size, names.length);
  for (const { field } of [...invalidSpecs, ...transitionCases]) {
    assert.match(field, /^spec(\.[A-Za-z_][A-Za-z0-9_]*)*$/);
  }
});

for (const { name, spec } of validSpecs) {
  Deno.test(`parseDatabaseSpec() accepts ${name} and applies the defaults`, () => {
    const result = parseDatabaseSpec(spec);
    assert.ok(result.ok, JSON.stringify(result));
    const raw = spec as Record<string, unknown>;
    assert.equal(result.spec.image, raw.image ?? "postgres:17");
    assert.equal(result.spec.replicas, raw.replicas ?? 1);
    assert.equal(result.spec.databaseName, raw.databaseName);
    assert.equal(result.spec.username, raw.username);
  });
}

for (const { name, spec, field } of invalidSpecs) {
  Deno.test(`parseDatabaseSpec() rejects ${name}, naming ${field}`, () => {
    const result = parseDatabaseSpec(spec);
    assert.ok(!result.ok, `accepted ${JSON.stringify(spec)}`);
    assert.equal(result.field, field, result.message);
    assert.ok(result.message.startsWith(field), result.message);
  });
}

Deno.test("parseDatabaseSpec() returns the course's valid-db exactly, with nothing added", () => {
  assert.deepEqual(
    parseDatabaseSpec({ databaseName: "mydb", username: "admin", storage: { size: "10Gi" } }),
    {
      ok: true,
      spec: {
        image: "postgres:17",
        replicas: 1,
        databaseName: "mydb",
        username: "admin",
        storage: { size: "10Gi" },
      },
    },
  );
});

Deno.test("parseDatabaseSpec() drops null fields as the API server prunes them", () => {
  const result = parseDatabaseSpec({
    image: null,
    databaseName: "mydb",
    username: "admin",
    storage: { size: "1Gi", storageClass: null },
    resources: { limits: { cpu: null, memory: "1Gi" } },
  });
  assert.deepEqual(result, {
    ok: true,
    spec: {
      image: "postgres:17",
      replicas: 1,
      databaseName: "mydb",
      username: "admin",
      storage: { size: "1Gi" },
      resources: { limits: { memory: "1Gi" } },
    },
  });
});

Deno.test("parseDatabaseSpec() says which field is missing, unknown or invalid", () => {
  const missing = parseDatabaseSpec({ username: "admin", storage: { size: "1Gi" } });
  assert.deepEqual(missing, {
    ok: false,
    field: "spec.databaseName",
    message: "spec.databaseName is required",
  });
  const unknown = parseDatabaseSpec({
    databaseName: "mydb",
    username: "admin",
    storage: { size: "1Gi" },
    replica: 3,
  });
  assert.deepEqual(unknown, {
    ok: false,
    field: "spec.replica",
    message: "spec.replica is not a known field",
  });
  const invalid = parseDatabaseSpec({
    databaseName: "mydb",
    username: "admin",
    storage: { size: "1Gi" },
    replicas: 0,
  });
  assert.deepEqual(invalid, {
    ok: false,
    field: "spec.replicas",
    message: "spec.replicas must be at least 1",
  });
});

Deno.test("parseDatabaseSpec() accepts both sides of every update, since only CEL sees oldSelf", () => {
  for (const { name, oldSpec, newSpec } of [...transitionCases, ...allowedTransitions]) {
    assert.ok(parseDatabaseSpec(oldSpec).ok, name);
    assert.ok(parseDatabaseSpec(newSpec).ok, name);
  }
});

Deno.test("databaseSpecSchema.parse() throws a ZodError for an invalid spec", () => {
  assert.throws(() => databaseSpecSchema.parse({ databaseName: "mydb" }), { name: "ZodError" });
});

Deno.test("parseQuantity() reads binary suffixes as powers of two", () => {
  assert.equal(parseQuantity("1Ki"), Ki);
  assert.equal(parseQuantity("10Gi"), 10 * Gi);
  assert.equal(parseQuantity("50Gi"), 53_687_091_200);
  assert.equal(parseQuantity("1.5Gi"), 1.5 * Gi);
  assert.equal(parseQuantity("1Ti"), 2 ** 40);
  assert.equal(parseQuantity("1Pi"), 2 ** 50);
  assert.equal(parseQuantity("2Ei"), 2 ** 61);
  assert.equal(parseQuantity("512Mi"), 512 * 2 ** 20);
});

Deno.test("parseQuantity() reads decimal suffixes as powers of ten", () => {
  assert.equal(parseQuantity("1k"), 1e3);
  assert.equal(parseQuantity("1M"), 1e6);
  assert.equal(parseQuantity("10G"), 1e10);
  assert.equal(parseQuantity("1T"), 1e12);
  assert.equal(parseQuantity("1P"), 1e15);
  assert.equal(parseQuantity("1E"), 1e18);
  assert.equal(parseQuantity("500m"), 0.5);
  assert.equal(parseQuantity("250u"), 0.00025);
  assert.equal(parseQuantity("3n"), 3e-9);
  assert.equal(parseQuantity("0.1k"), 100);
});

Deno.test("parseQuantity() reads plain numbers and decimal exponents", () => {
  assert.equal(parseQuantity("0"), 0);
  assert.equal(parseQuantity("42"), 42);
  assert.equal(parseQuantity("1.5"), 1.5);
  assert.equal(parseQuantity(".5"), 0.5);
  assert.equal(parseQuantity("1."), 1);
  assert.equal(parseQuantity("1e3"), 1000);
  assert.equal(parseQuantity("1E3"), 1000);
  assert.equal(parseQuantity("2.5e+2"), 250);
  assert.equal(parseQuantity("1e-3"), 0.001);
  assert.equal(parseQuantity("1e400"), Infinity);
});

Deno.test("parseQuantity() honours a sign and never returns negative zero", () => {
  assert.equal(parseQuantity("-1Gi"), -Gi);
  assert.equal(parseQuantity("+1Gi"), Gi);
  assert.ok(Object.is(parseQuantity("-0"), 0));
});

Deno.test("parseQuantity() rounds a value below 1n up to 1n, like the API server", () => {
  assert.equal(parseQuantity("1e-400"), 1e-9);
  assert.equal(parseQuantity("0.0000000001"), 1e-9);
  assert.equal(parseQuantity("-1e-12"), -1e-9);
  assert.equal(parseQuantity("0e-400"), 0);
});

Deno.test("parseQuantity() throws a QuantityParseError naming the input for non-quantities", () => {
  for (
    const text of [
      "",
      "ten gigs",
      "10 Gi",
      " 10Gi",
      "10gi",
      "10GB",
      "10Gii",
      "Gi",
      ".",
      "--1",
      "1e",
      "1e1.5",
      "0x10",
      "1,000",
    ]
  ) {
    assert.throws(() => parseQuantity(text), (error: unknown) => {
      assert.ok(error instanceof QuantityParseError);
      assert.equal(error.name, "QuantityParseError");
      assert.equal(error.input, text);
      assert.equal(error.message, `Invalid quantity ${JSON.stringify(text)}`);
      return true;
    }, text);
  }
});

Deno.test("isQuantity() agrees with parseQuantity() and rejects non-strings", () => {
  assert.equal(isQuantity("10Gi"), true);
  assert.equal(isQuantity("-1"), true);
  assert.equal(isQuantity("ten gigs"), false);
  assert.equal(isQuantity(10), false);
  assert.equal(isQuantity(undefined), false);
});

Deno.test("compareQuantities() compares values, not spellings", () => {
  assert.equal(compareQuantities("1Gi", "1024Mi"), 0);
  assert.equal(compareQuantities("1G", "1Gi"), -1);
  assert.equal(compareQuantities("20Gi", "10Gi"), 1);
  assert.equal(compareQuantities("53687091200", "50Gi"), 0);
  assert.throws(() => compareQuantities("10Gi", "lots"), QuantityParseError);
});
