/**
 * Where a Database's backups live in an object store, and how a pod reaches it: barman-cloud's
 * destination URL and server name from `bucket` and `path`, and the environment and Secret
 * volume of the pods that use it.
 *
 * The key prefix `path` (default `<namespace>/<name>`) is split at its last slash: barman keeps
 * `<destination>/<server>/base/…` and `<destination>/<server>/wals/…`, so every object of the
 * Database is under `s3://<bucket>/<path>/`.
 *
 * @module
 */
import type { Database, ObjectStore } from "../api/mod.ts";
import { BARMAN_SCRIPT, BARMAN_SCRIPT_ENV } from "./barman.ts";

/** barman-cloud's two positional arguments for a store. */
export interface StoreLocation {
  /** `s3://<bucket>[/<path without its last segment>]`. */
  destination: string;
  /** The last segment of the path. */
  server: string;
}

/**
 * The destination URL and server name of `store` for `db`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const db = { metadata: { name: "orders", namespace: "shop" }, spec: {} } as never;
 * const store = { endpoint: "https://s3", bucket: "backups", secret: "s3" };
 * assert.deepEqual(storeLocation(db, store), { destination: "s3://backups/shop", server: "orders" });
 * ```
 */
export function storeLocation(db: Database, store: ObjectStore): StoreLocation {
  const path = store.path ?? `${db.metadata.namespace}/${db.metadata.name}`;
  const cut = path.lastIndexOf("/");
  return cut < 0
    ? { destination: `s3://${store.bucket}`, server: path }
    : { destination: `s3://${store.bucket}/${path.slice(0, cut)}`, server: path.slice(cut + 1) };
}

/** `BACKUP` for `spec.backup`, `RESTORE` for `spec.restore`. */
export type StoreUse = "BACKUP" | "RESTORE";

/** The Secret volume of a store, named after its use. */
export function storeVolume(use: StoreUse, store: ObjectStore): Record<string, unknown> {
  return {
    name: volumeName(use),
    secret: { secretName: store.secret, defaultMode: 0o440 },
  };
}

/** The mount of {@linkcode storeVolume}. */
export function storeMount(use: StoreUse): Record<string, unknown> {
  return { name: volumeName(use), mountPath: storeDir(use), readOnly: true };
}

/** What `barman.sh` reads to use the store: never the credentials, which stay files. */
export function storeEnv(
  db: Database,
  use: StoreUse,
  store: ObjectStore,
): { name: string; value: string }[] {
  const { destination, server } = storeLocation(db, store);
  return [
    { name: `${use}_ENDPOINT`, value: store.endpoint },
    { name: `${use}_DESTINATION`, value: destination },
    { name: `${use}_SERVER`, value: server },
    { name: `${use}_DIR`, value: storeDir(use) },
  ];
}

/** The script itself, once per container. */
export const SCRIPT_ENV = { name: BARMAN_SCRIPT_ENV, value: BARMAN_SCRIPT };

const volumeName = (use: StoreUse) => `${use.toLowerCase()}-store`;
const storeDir = (use: StoreUse) => `/etc/${use.toLowerCase()}-store`;
