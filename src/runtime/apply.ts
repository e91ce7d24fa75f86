/**
 * Minimal writes: decide from the cache whether an object already has every field the
 * operator wants, and only then skip the write; otherwise send a server-side apply.
 *
 * The comparison is a *semantic subset*: each field the operator sets must be present and equal
 * in the live object, while fields the server defaulted or others own are ignored. That is the
 * same view server-side apply takes of ownership, so skipping a write never hides a difference
 * an apply would have fixed.
 *
 * @module
 */
import type { KubeClient } from "./kube_client.ts";
import { type KubeObject, objectPath, type ResourceType } from "./resource.ts";

/** Compares two differing scalars that may still mean the same (e.g. `1000m` and `1`). */
export type ScalarEquality = (desired: unknown, live: unknown) => boolean;

/**
 * True when every field of `desired` is in `live` with an equal value. Arrays must have the
 * same length and be element-wise subsets.
 */
export function isSubset(desired: unknown, live: unknown, equal?: ScalarEquality): boolean {
  if (desired === live) return true;
  if (Array.isArray(desired)) {
    return Array.isArray(live) && desired.length === live.length &&
      desired.every((d, i) => isSubset(d, live[i], equal));
  }
  if (desired !== null && typeof desired === "object") {
    if (live === null || typeof live !== "object" || Array.isArray(live)) return false;
    const l = live as Record<string, unknown>;
    return Object.entries(desired).every(([k, v]) => v === undefined || isSubset(v, l[k], equal));
  }
  return equal?.(desired, live) ?? false;
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
