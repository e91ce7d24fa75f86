/**
 * Moving a field manager's fields from its `Update` entry to its `Apply` entry, as client-go's
 * `csaupgrade` does, so objects created with a plain POST can later be changed by server-side
 * apply with everything apply promises.
 *
 * A POST with `?fieldManager=m` records the fields it set under `{manager: m, operation:
 * "Update"}`. A later server-side apply by `m` records its own `{manager: m, operation:
 * "Apply"}` entry beside it: the two are different owners to the server. When the apply then
 * stops setting a field, its `Apply` entry gives the field up, but the `Update` entry still owns
 * it, so the field stays. Merging the `Update` entry's fields into the `Apply` entry first makes
 * the apply their only owner, and an apply that leaves a field out removes it.
 *
 * @module
 */
import { type KubeClient } from "./kube_client.ts";
import { type KubeObject, objectPath, type ResourceType } from "./resource.ts";

/** One `metadata.managedFields` entry; `fieldsV1` is the trie of owned field paths. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: "Apply" | "Update" | string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldsV1;
  subresource?: string;
}

/** A field-path trie: keys such as `f:spec`, `k:{"name":"x"}`, `.`; leaves are `{}`. */
export type FieldsV1 = { [key: string]: FieldsV1 };

/**
 * True when `object` has a main-resource `Update` entry by `manager`: fields a later apply by
 * the same manager could not remove until they are upgraded. Works on projections that keep
 * only each entry's `manager`, `operation` and `subresource`.
 */
export function hasUpdateEntry(object: KubeObject, manager: string): boolean {
  return (object.metadata.managedFields as ManagedFieldsEntry[] | undefined ?? [])
    .some((entry) => isUpdateBy(entry, manager));
}

function isUpdateBy(entry: ManagedFieldsEntry, manager: string): boolean {
  return entry.manager === manager && entry.operation === "Update" && !entry.subresource;
}

/**
 * The entries with `manager`'s main-resource `Update` entries merged into its `Apply` entry
 * (made from the first of them when there is none), or `undefined` when there is nothing to
 * move. Entries of another API version than the `Apply` entry's are left as they are: their
 * paths may name other fields.
 *
 * @example A created object's fields become the apply's
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const upgraded = upgradeManagedFields([
 *   { manager: "op", operation: "Update", apiVersion: "v1", fieldsV1: { "f:data": { "f:a": {} } } },
 *   { manager: "op", operation: "Apply", apiVersion: "v1", fieldsV1: { "f:data": { "f:b": {} } } },
 * ], "op");
 * assert.deepEqual(upgraded, [{
 *   manager: "op",
 *   operation: "Apply",
 *   apiVersion: "v1",
 *   fieldsType: "FieldsV1",
 *   fieldsV1: { "f:data": { "f:b": {}, "f:a": {} } },
 * }]);
 * ```
 */
export function upgradeManagedFields(
  entries: readonly ManagedFieldsEntry[],
  manager: string,
): ManagedFieldsEntry[] | undefined {
  const applied = entries.find((e) =>
    e.manager === manager && e.operation === "Apply" && !e.subresource
  );
  const updates = entries.filter((e) =>
    isUpdateBy(e, manager) && (!applied || e.apiVersion === applied.apiVersion)
  );
  if (updates.length === 0) return undefined;
  const [first, ...rest] = updates;
  const target = applied ?? { ...first!, operation: "Apply" };
  let fields = target.fieldsV1 ?? {};
  for (const update of applied ? updates : rest) {
    fields = unionFields(fields, update.fieldsV1 ?? {});
  }
  const upgraded = { ...target, fieldsType: target.fieldsType ?? "FieldsV1", fieldsV1: fields };
  const result: ManagedFieldsEntry[] = [];
  for (const entry of entries) {
    if (updates.includes(entry)) {
      // The Apply entry takes the place of the first Update entry when there was none.
      if (!applied && entry === first) result.push(upgraded);
    } else {
      result.push(entry === applied ? upgraded : entry);
    }
  }
  return result;
}

/** Every path of `a` and of `b`. */
function unionFields(a: FieldsV1, b: FieldsV1): FieldsV1 {
  const union: FieldsV1 = { ...a };
  for (const [key, child] of Object.entries(b)) {
    union[key] = key in union ? unionFields(union[key]!, child) : child;
  }
  return union;
}

/**
 * Upgrades `manager`'s `Update` entry of the named object (see the module documentation) with a
 * JSON patch that replaces the entries and the `resourceVersion` they were read at, so an
 * object changed in between is refused with 409 Conflict rather than given stale entries. Reads
 * the object unless `live` (read whole, `managedFields` and all) is given.
 *
 * @returns Whether a patch was sent.
 */
export async function upgradeToApply(
  client: KubeClient,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  manager: string,
  options: { live?: KubeObject; signal?: AbortSignal } = {},
): Promise<boolean> {
  const { signal } = options;
  const path = objectPath(type, namespace, name);
  const live = options.live ?? await client.request<KubeObject>("GET", path, { signal });
  const entries = live.metadata.managedFields as ManagedFieldsEntry[] | undefined;
  const upgraded = upgradeManagedFields(entries ?? [], manager);
  if (!upgraded) return false;
  // No field manager: the patch changes no field, so it adds no entry of its own.
  await client.request("PATCH", path, {
    body: [
      { op: "replace", path: "/metadata/managedFields", value: upgraded },
      { op: "replace", path: "/metadata/resourceVersion", value: live.metadata.resourceVersion },
    ],
    contentType: "application/json-patch+json",
    signal,
  });
  return true;
}
