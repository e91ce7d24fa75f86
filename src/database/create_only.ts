/**
 * A server-side apply that can only create: how the reconciler makes an object its cache has
 * not seen without reading it first.
 *
 * An apply that carries `metadata.resourceVersion` is conditional: the API server refuses it
 * with 409 Conflict unless the live object has exactly that version. An apply that creates has
 * no live object to compare with, and the server ignores the version. So an apply carrying a
 * version no object ever has (the largest int64; etcd revisions count up from 1 and never get
 * there) creates the object when its name is free and changes nothing when the name is taken,
 * whoever holds it. One request on the normal path, where a read first would cost two, and the
 * fields are owned by the operator's apply manager from the start (a plain create would leave
 * them to an update manager, and a later apply could then not remove them).
 *
 * @module
 */
import {
  ApiError,
  apply,
  type KubeClient,
  type KubeObject,
  type ResourceType,
} from "../runtime/client/mod.ts";

/** A resourceVersion no object has, so an apply carrying it can only create. */
export const UNREACHABLE_RESOURCE_VERSION = "9223372036854775807";

/**
 * Creates `object` with a server-side apply, unless an object with its name exists.
 *
 * @param client The API client.
 * @param type Where the object lives.
 * @param object The object to create; its `resourceVersion` is replaced.
 * @param fieldManager The apply's field manager.
 * @param signal Cancels the request (the reconcile's signal).
 * @returns The created object, or `undefined` when the name is taken (the caller reads what is
 *   there: an object of its own the cache has not seen yet, or someone else's).
 * @throws {ApiError} Any other refusal, e.g. 422 for an object the server finds invalid.
 */
export async function applyCreateOnly<T extends KubeObject>(
  client: KubeClient,
  type: ResourceType,
  object: T,
  fieldManager: string,
  signal?: AbortSignal,
): Promise<T | undefined> {
  const createOnly = {
    ...object,
    metadata: { ...object.metadata, resourceVersion: UNREACHABLE_RESOURCE_VERSION },
  };
  try {
    return await apply(client, type, createOnly, { fieldManager, ...(signal ? { signal } : {}) });
  } catch (error) {
    // A forced apply has no field conflicts, so 409 can only mean the version did not match.
    if (error instanceof ApiError && error.code === 409) return undefined;
    throw error;
  }
}
