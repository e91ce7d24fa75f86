/**
 * Projections that keep only the fields a controller reads, for informer transforms: cached
 * objects shrink to what matters (a StatefulSet to less than half), which is most of the
 * operator's memory at scale.
 *
 * A shape is an example of the fields to keep: `true` keeps a whole subtree, an object keeps
 * the named keys (recursively), and an array's element shapes are merged and applied to every
 * element. Pruning to a shape that covers every field the controller sets never changes the
 * outcome of {@linkcode isSubset} against what it sets.
 *
 * @module
 */
import type { KubeObject, ObjectMeta } from "../client/mod.ts";
import { intern } from "./intern.ts";

/** Which fields to keep; see the module documentation. */
export type Shape = true | { [key: string]: Shape } | Shape[];

/**
 * The fields of `value` that `shape` names. Parts that lose nothing are returned as they are,
 * not copied: an object `JSON.parse` made is laid out more compactly than one built key by key.
 */
export function pruneTo(value: unknown, shape: Shape): unknown {
  if (shape === true || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const element = Array.isArray(shape) ? mergeShapes(shape) : shape;
    const items = value.map((item) => pruneTo(item, element));
    return items.every((item, i) => item === value[i]) ? value : items;
  }
  if (Array.isArray(shape)) return value;
  const kept: Record<string, unknown> = {};
  let changed = false;
  for (const [key, child] of Object.entries(value)) {
    const childShape = shape[key];
    if (childShape === undefined) {
      changed = true;
      continue;
    }
    const prunedChild = pruneTo(child, childShape);
    if (prunedChild !== child) changed = true;
    kept[key] = prunedChild;
  }
  return changed ? kept : value;
}

/** One shape that keeps everything any of `shapes` keeps. */
export function mergeShapes(shapes: Shape[]): Shape {
  let merged: Shape = {};
  for (const shape of shapes) merged = mergeTwo(merged, shape);
  return merged;
}

function mergeTwo(a: Shape, b: Shape): Shape {
  if (a === true || b === true) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return [mergeShapes([...(Array.isArray(a) ? a : [a]), ...(Array.isArray(b) ? b : [b])])];
  }
  const merged: Record<string, Shape> = { ...a };
  for (const [key, shape] of Object.entries(b)) {
    merged[key] = key in merged ? mergeTwo(merged[key]!, shape) : shape;
  }
  return merged;
}

/** The shape of an example value: every field it has, leaves kept whole. */
export function shapeOf(example: unknown): Shape {
  if (example === null || typeof example !== "object") return true;
  if (Array.isArray(example)) {
    return example.length > 0 ? [mergeShapes(example.map(shapeOf))] : true;
  }
  return Object.fromEntries(Object.entries(example).map(([k, v]) => [k, shapeOf(v)]));
}

/** The metadata controllers read: identity, version, labels, annotations, owners, deletion. */
export const METADATA_SHAPE: { [K in keyof ObjectMeta]?: Shape } = {
  name: true,
  namespace: true,
  uid: true,
  resourceVersion: true,
  generation: true,
  labels: true,
  annotations: true,
  ownerReferences: true,
  finalizers: true,
  deletionTimestamp: true,
};

/**
 * The annotation `kubectl apply` keeps a whole copy of the applied object in; no controller
 * reads it, and it can be as large as the rest of the object.
 */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/**
 * Of each `managedFields` entry, who wrote with which operation, without the fields: enough to
 * tell that a manager still has an `Update` entry (see `hasUpdateEntry`), at the cost of one
 * shared array per distinct list of writers.
 */
export const MANAGERS_SHAPE: Shape = [{ manager: true, operation: true, subresource: true }];

/**
 * An informer transform that keeps `metadata` essentials (less the
 * {@linkcode LAST_APPLIED_ANNOTATION}) plus the fields `shape` names; a `metadata` key in
 * `shape` adds to the essentials (e.g. `{ managedFields: MANAGERS_SHAPE }`).
 */
export function projection<T extends KubeObject>(shape: Record<string, Shape>): (o: T) => T {
  const metadata = mergeShapes([METADATA_SHAPE as Shape, shape.metadata ?? {}]);
  const full: Shape = { apiVersion: true, kind: true, ...shape, metadata };
  return (object) => intern(withoutLastApplied(pruneTo(object, full) as T));
}

function withoutLastApplied<T extends KubeObject>(object: T): T {
  const annotations = object.metadata.annotations;
  if (annotations?.[LAST_APPLIED_ANNOTATION] === undefined) return object;
  // Rebuilt rather than `delete`d, which would turn the map into a slower dictionary object.
  const { [LAST_APPLIED_ANNOTATION]: _, ...rest } = annotations;
  const { annotations: __, ...metadata } = object.metadata;
  return {
    ...object,
    metadata: Object.keys(rest).length > 0 ? { ...metadata, annotations: rest } : metadata,
  };
}
