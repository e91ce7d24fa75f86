/**
 * The names a Database's server certificate covers: its three Services (`<name>`, `<name>-ro`,
 * `<name>-pods`) as a client may write them (short, with the namespace, `.svc`, and the full
 * name in the cluster's DNS domain), and every pod through the governing Service
 * (`<pod>.<name>-pods.<namespace>.svc`, as a wildcard, so a scale-up needs no new certificate).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const db = { metadata: { name: "orders", namespace: "shop" }, spec: {} } as never;
 * const names = serverNames(db);
 * assert.ok(names.includes("orders.shop.svc"));
 * assert.ok(names.includes("orders-ro.shop.svc.cluster.local"));
 * assert.ok(names.includes("*.orders-pods.shop.svc"));
 * ```
 *
 * @module
 */
import { type Database, podsServiceName, readOnlyServiceName } from "../api/mod.ts";

/** The cluster's DNS domain unless `--cluster-domain` names another. */
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

/** Every DNS name a client may reach `db`'s PostgreSQL by. */
export function serverNames(db: Database, clusterDomain = DEFAULT_CLUSTER_DOMAIN): string[] {
  const ns = db.metadata.namespace!;
  const services = [db.metadata.name!, readOnlyServiceName(db), podsServiceName(db)];
  const names = services.flatMap((s) => [
    s,
    `${s}.${ns}`,
    `${s}.${ns}.svc`,
    `${s}.${ns}.svc.${clusterDomain}`,
  ]);
  const pods = `${podsServiceName(db)}.${ns}.svc`;
  names.push(`*.${pods}`, `*.${pods}.${clusterDomain}`);
  return names;
}
