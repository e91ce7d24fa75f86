/**
 * The course's finalizer, released: older versions of the course's operator added
 * `database.example.com/finalizer`, and nothing needs it now. Removed on any reconcile, so a
 * Database adopted from the course's operator never waits on it when deleted.
 *
 * @module
 */
import { type KubeClient, objectPath } from "../../runtime/client/mod.ts";
import { type Database, DATABASE_RESOURCE, FINALIZER } from "../api/mod.ts";

/** Removes the course's finalizer from `db`, if it has it (guarded by its resourceVersion). */
export async function releaseFinalizer(
  client: KubeClient,
  db: Database,
  signal?: AbortSignal,
): Promise<void> {
  const finalizers = db.metadata.finalizers ?? [];
  if (!finalizers.includes(FINALIZER)) return;
  await client.request(
    "PATCH",
    objectPath(DATABASE_RESOURCE, db.metadata.namespace, db.metadata.name!),
    {
      body: {
        metadata: {
          finalizers: finalizers.filter((f) => f !== FINALIZER),
          resourceVersion: db.metadata.resourceVersion,
        },
      },
      contentType: "application/merge-patch+json",
      signal,
    },
  );
}
