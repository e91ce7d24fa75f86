/**
 * Minimal writes: decide from the cache whether an object already has every field the
 * operator wants, and only then skip the write; otherwise send a server-side apply.
 *
 * Two checks, one for each direction of drift:
 * - A *semantic subset* ({@linkcode isSubset}) finds what others changed: each field the
 *   operator sets must be present and equal in the live object, while fields the server
 *   defaulted or others own are ignored. That is the same view server-side apply takes of
 *   ownership, so skipping a write never hides a difference an apply would have fixed.
 * - A hash of what was last applied, kept in an annotation ({@linkcode withAppliedHash}), finds
 *   what the operator itself stopped setting: a field removed from the desired object is still
 *   in the live one, which a subset check cannot see, but the hash changes, and the apply that
 *   follows removes the field (server-side apply drops fields its manager no longer sets).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { KubeClient } from "./kube_client.ts";
import { type KubeObject, objectPath, type ResourceType } from "./resource.ts";

/** Compares two differing scalars that may still mean the same (e.g. `1000m` and `1`). */
export type ScalarEquality = (desired: unknown, live: unknown) => boolean;

/**
 * Keys that identify the elements of a list the way server-side apply's list-map keys do, in
 * the order they are tried: owner references by `uid`, containers, env, ports and volumes by
 * `name`, volume mounts by `mountPath`.
 */
const LIST_KEYS = ["uid", "name", "mountPath"] as const;

/**
 * True when every field of `desired` is in `live` with an equal value.
 *
 * - Lists whose elements all carry one of the keys `uid`, `name`, `mountPath` are matched by
 *   that key, in any order, and may have more elements in `live`: other managers extend them
 *   (owner references, injected containers, env), and an apply would leave those alone.
 * - Other lists are atomic: same length, element-wise subsets.
 * - An empty object or list in `desired` matches an absent one, as the server drops empty
 *   maps (`limits: {}`) instead of storing them.
 *
 * @param desired What the operator would apply.
 * @param live The object as cached.
 * @param equal Decides about scalars that differ, such as quantities spelt differently.
 */
export function isSubset(desired: unknown, live: unknown, equal?: ScalarEquality): boolean {
  if (desired === live) return true;
  if (live === undefined || live === null) return isEmpty(desired);
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return false;
    const key = listKey(desired);
    if (key) {
      return desired.every((d) => {
        const match = live.find((l) => isRecord(l) && l[key] === d[key]);
        return match !== undefined && isSubset(d, match, equal);
      });
    }
    return desired.length === live.length &&
      desired.every((d, i) => isSubset(d, live[i], equal));
  }
  if (isRecord(desired)) {
    if (!isRecord(live)) return false;
    return Object.entries(desired).every(([k, v]) =>
      v === undefined || isSubset(v, live[k], equal)
    );
  }
  return equal?.(desired, live) ?? false;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** True for an object or list with nothing but empty objects, lists or undefined inside. */
function isEmpty(value: unknown): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isRecord(value) && Object.values(value).every(isEmpty);
}

/** The key every element of `list` carries, if any; see {@linkcode LIST_KEYS}. */
function listKey(list: unknown[]): (typeof LIST_KEYS)[number] | undefined {
  if (list.length === 0 || !list.every(isRecord)) return undefined;
  return LIST_KEYS.find((key) =>
    list.every((item) => {
      const value = (item as Record<string, unknown>)[key];
      return typeof value === "string" || typeof value === "number";
    })
  );
}

/**
 * A copy of `object` with `annotation` set to a hash of everything else in it, so a later
 * desired object can be compared with what was applied, removals included.
 *
 * @param object The object to apply.
 * @param annotation The annotation key that holds the hash.
 * @returns The object to apply, and the hash it carries.
 *
 * @example Equal content, equal hash, whatever the key order
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const key = "example.com/applied-hash";
 * const metadata: { name: string; annotations?: Record<string, string> } = { name: "x" };
 * const a = withAppliedHash({ metadata, spec: { a: 1, b: 2 } }, key);
 * const b = withAppliedHash({ spec: { b: 2, a: 1 }, metadata }, key);
 * assert.equal(a.hash, b.hash);
 * assert.equal(a.object.metadata.annotations?.[key], a.hash);
 * ```
 */
export function withAppliedHash<T extends KubeObject>(
  object: T,
  annotation: string,
): { object: T; hash: string } {
  const { [annotation]: _old, ...annotations } = object.metadata.annotations ?? {};
  const bare = { ...object, metadata: { ...object.metadata, annotations } };
  // Synchronous: WebCrypto's digest was 20% of the operator's CPU in a creation burst.
  const hash = createHash("sha256").update(canonicalJson(bare)).digest("hex").slice(0, 20);
  return {
    object: {
      ...object,
      metadata: { ...object.metadata, annotations: { ...annotations, [annotation]: hash } },
    },
    hash,
  };
}

/**
 * JSON with object keys sorted at every level, so equal content gives equal text. A sorted copy
 * of plain JSON data, then the native serializer: half the time of a `JSON.stringify` replacer,
 * with the same text (so hashes applied by earlier versions still match).
 */
function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedCopy(value));
}

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(sortedCopy);
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    sorted[key] = sortedCopy((value as Record<string, unknown>)[key]);
  }
  return sorted;
}

/** Options for {@linkcode apply}. */
export interface ApplyOptions {
  /** The field manager that owns what this apply sets. */
  fieldManager: string;
  /** Take ownership of fields another manager set (reverting hand edits). @default true */
  force?: boolean;
  /** `status` to apply the status subresource. */
  subresource?: string;
  signal?: AbortSignal;
}

/** Server-side applies `object` (creating it if absent) and returns the live result. */
export async function apply<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  object: T,
  options: ApplyOptions,
): Promise<T> {
  const { namespace, name } = object.metadata;
  return await client.request<T>(
    "PATCH",
    objectPath(type, namespace, name!, options.subresource),
    {
      body: object,
      contentType: "application/apply-patch+yaml",
      query: { fieldManager: options.fieldManager, force: options.force ?? true },
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
}
