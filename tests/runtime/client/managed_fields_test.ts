import assert from "node:assert/strict";
import {
  ApiError,
  apply,
  collectionPath,
  CORE,
  hasUpdateEntry,
  type KubeObject,
  type ManagedFieldsEntry,
  objectPath,
  upgradeManagedFields,
  upgradeToApply,
} from "../../../src/runtime/client/mod.ts";
import { ControlPlane } from "../../../tools/testenv/mod.ts";

const OP = "op";

Deno.test("upgradeManagedFields() merges the manager's Update entries into its Apply entry", () => {
  const entries: ManagedFieldsEntry[] = [
    { manager: "other", operation: "Update", apiVersion: "v1", fieldsV1: { "f:x": {} } },
    { manager: OP, operation: "Update", apiVersion: "v1", fieldsV1: { "f:a": { "f:b": {} } } },
    { manager: OP, operation: "Apply", apiVersion: "v1", fieldsV1: { "f:a": { "f:c": {} } } },
    { manager: OP, operation: "Update", subresource: "status", fieldsV1: { "f:status": {} } },
  ];
  assert.deepEqual(upgradeManagedFields(entries, OP), [
    entries[0],
    {
      manager: OP,
      operation: "Apply",
      apiVersion: "v1",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:a": { "f:c": {}, "f:b": {} } },
    },
    entries[3],
  ]);
});

Deno.test("upgradeManagedFields() turns a lone Update entry into the Apply entry, in place", () => {
  const entries: ManagedFieldsEntry[] = [
    { manager: "other", operation: "Update", apiVersion: "v1", fieldsV1: { "f:x": {} } },
    {
      manager: OP,
      operation: "Update",
      apiVersion: "v1",
      time: "t",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:a": {} },
    },
  ];
  assert.deepEqual(upgradeManagedFields(entries, OP), [entries[0], {
    ...entries[1],
    operation: "Apply",
  }]);
});

Deno.test("upgradeManagedFields() leaves what it cannot or need not move", () => {
  assert.equal(upgradeManagedFields([], OP), undefined);
  assert.equal(
    upgradeManagedFields([{ manager: OP, operation: "Apply", fieldsV1: {} }], OP),
    undefined,
  );
  assert.equal(
    upgradeManagedFields([{ manager: OP, operation: "Update", subresource: "status" }], OP),
    undefined,
  );
  // Another version's paths may name other fields.
  assert.equal(
    upgradeManagedFields([
      { manager: OP, operation: "Apply", apiVersion: "apps/v1" },
      { manager: OP, operation: "Update", apiVersion: "apps/v1beta2" },
    ], OP),
    undefined,
  );
});

Deno.test("hasUpdateEntry() sees only the manager's main-resource Update entries", () => {
  const of = (managedFields: ManagedFieldsEntry[]) => ({ metadata: { managedFields } });
  assert.equal(hasUpdateEntry(of([{ manager: OP, operation: "Update" }]), OP), true);
  assert.equal(hasUpdateEntry(of([{ manager: OP, operation: "Apply" }]), OP), false);
  assert.equal(
    hasUpdateEntry(of([{ manager: OP, operation: "Update", subresource: "status" }]), OP),
    false,
  );
  assert.equal(hasUpdateEntry(of([{ manager: "x", operation: "Update" }]), OP), false);
  assert.equal(hasUpdateEntry({ metadata: {} }, OP), false);
});

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

Deno.test("on a real API server, an apply removes a POSTed field only after the upgrade", async (t) => {
  await using plane = await ControlPlane.start();
  const client = plane.client;
  const ns = "default";
  const path = (name: string) => objectPath(CORE.configMaps, ns, name);
  /** POSTs {a, b} as `op`, then applies {a} as `op`; returns the data left. */
  const createThenDropB = async (name: string, upgrade: boolean) => {
    await client.request("POST", collectionPath(CORE.configMaps, ns), {
      body: { metadata: { name }, data: { a: "1", b: "2" } },
      query: { fieldManager: OP },
    });
    const created = await client.request<ConfigMap>("GET", path(name));
    assert.equal(hasUpdateEntry(created, OP), true);
    if (upgrade) assert.equal(await upgradeToApply(client, CORE.configMaps, ns, name, OP), true);
    const desired = { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns } };
    await apply(client, CORE.configMaps, { ...desired, data: { a: "1" } }, { fieldManager: OP });
    return await client.request<ConfigMap>("GET", path(name));
  };

  await t.step("without it, the POST's Update entry keeps the field", async () => {
    const live = await createThenDropB("kept", false);
    assert.deepEqual(live.data, { a: "1", b: "2" });
  });

  await t.step("with it, the apply owns the field and removes it", async () => {
    const live = await createThenDropB("upgraded", true);
    assert.deepEqual(live.data, { a: "1" });
    const entries = live.metadata.managedFields as ManagedFieldsEntry[];
    assert.deepEqual(entries.map((e) => `${e.manager}/${e.operation}`), [`${OP}/Apply`]);
    assert.equal(await upgradeToApply(client, CORE.configMaps, ns, "upgraded", OP), false);
  });

  await t.step(
    "an object changed since it was read is refused, not given stale entries",
    async () => {
      await client.request("POST", collectionPath(CORE.configMaps, ns), {
        body: { metadata: { name: "raced" }, data: { a: "1" } },
        query: { fieldManager: OP },
      });
      const read = await client.request<ConfigMap>("GET", path("raced"));
      await client.request("PATCH", path("raced"), {
        body: { data: { c: "3" } },
        contentType: "application/merge-patch+json",
        query: { fieldManager: "someone" },
      });
      const refused = await upgradeToApply(client, CORE.configMaps, ns, "raced", OP, { live: read })
        .then(() => undefined, (error) => error);
      assert.ok(refused instanceof ApiError && refused.code === 409, `${refused}`);
      assert.equal(hasUpdateEntry(await client.request("GET", path("raced")), OP), true);
    },
  );
});
