/**
 * The names of what a Database is made of, in one place, so every room (and every script
 * written for the course) agrees on them: `<name>-credentials`, `<name>`, `<name>-ro`,
 * `<name>-pods`, the pods `<name>-<ordinal>`, and the port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const db = { metadata: { name: "orders", namespace: "shop" }, spec: {} } as never;
 * assert.equal(secretName(db), "orders-credentials");
 * assert.equal(serviceHost(db), "orders.shop.svc");
 * assert.equal(podsServiceName(db), "orders-pods");
 * ```
 *
 * @module
 */
import type { Database } from "./types.ts";

/** PostgreSQL's port. */
export const POSTGRES_PORT = 5432;

/** `<name>-credentials`, as in the course. */
export function secretName(db: Database): string {
  return `${db.metadata.name}-credentials`;
}

/**
 * `<name>.<namespace>.svc`: resolvable from any pod through its search path and independent of
 * the cluster's DNS domain, which is `cluster.local` only by default.
 */
export function serviceHost(db: Database): string {
  return `${db.metadata.name}.${db.metadata.namespace}.svc`;
}

/** `<name>-ro`, the read-only Service. */
export function readOnlyServiceName(db: Database): string {
  return `${db.metadata.name}-ro`;
}

/** `<name>-pods`, the StatefulSet's governing Service. */
export function podsServiceName(db: Database): string {
  return `${db.metadata.name}-pods`;
}

/** `<pod>.<name>-pods.<namespace>.svc`: a pod's DNS name through the governing Service. */
export function podHost(db: Database, pod: string): string {
  return `${pod}.${podsServiceName(db)}.${db.metadata.namespace}.svc`;
}

/**
 * The primary's pod name: `status.currentPrimary`, a fact the operator decides, and ordinal 0
 * until it has written one (a new Database).
 */
export function primaryPod(db: Database): string {
  return db.status?.currentPrimary || `${db.metadata.name}-0`;
}

/** The ServiceAccount the pods of a Database with standbys run as: `<name>`. */
export function instanceServiceAccount(db: Database): string {
  return db.metadata.name!;
}
