/**
 * The status step: the Database's status written with one merge patch, only when it differs
 * from what the cache shows and says something (see `status.ts`).
 *
 * @module
 */
import { type KubeClient, objectPath } from "../../runtime/client/mod.ts";
import {
  type Database,
  DATABASE_RESOURCE,
  type DatabaseStatus,
  FIELD_MANAGER,
} from "../api/mod.ts";
import { desiredStatus, nothingToReport, type Observation, statusChanged } from "./status.ts";

/** Writes the status for `observation`, if it changed; returns the status it stands for. */
export async function writeStatus(
  client: KubeClient,
  db: Database,
  observation: Observation,
  now: Date,
  signal?: AbortSignal,
): Promise<DatabaseStatus> {
  const status = desiredStatus(db, observation, now);
  if (!statusChanged(db, status) || nothingToReport(db, status)) return status;
  await client.request(
    "PATCH",
    objectPath(DATABASE_RESOURCE, db.metadata.namespace, db.metadata.name!, "status"),
    {
      body: { status },
      contentType: "application/merge-patch+json",
      query: { fieldManager: FIELD_MANAGER },
      signal,
    },
  );
  return status;
}
