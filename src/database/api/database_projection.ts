/**
 * What the cache keeps of a Database.
 *
 * @module
 */
import { projection } from "../../runtime/cache/mod.ts";
import type { Database } from "./types.ts";

/**
 * Cache transform of Databases: the metadata essentials, spec and status (all of it: the status
 * is compared whole before a write, and metrics read its phase), without `managedFields` and
 * `kubectl apply`'s copy of the object. The creation time is kept for `spec.backup.schedule`,
 * whose first Backup is the first scheduled time after it.
 */
export const projectDatabase = projection<Database>({
  metadata: { creationTimestamp: true },
  spec: true,
  status: true,
});
