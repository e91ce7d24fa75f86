/**
 * The reconcile step for the Services: the read-write `<name>` always and, with standbys, the
 * headless `<name>-pods` and the read-only `<name>-ro` (both removed again when replicas go
 * back to 1: only standbys use the pods' DNS names). A Service with one of these names that the
 * Database does not control is left untouched and reported.
 *
 * @module
 */
import { ApiError, CORE, objectPath } from "../../runtime/client/mod.ts";
import type { CreatedObjects } from "../../runtime/cache/mod.ts";
import type { Database, DatabaseSpec } from "../api/mod.ts";
import {
  allSettledOrThrow,
  controlledBy,
  createOnly,
  ensureApplied,
  foreignObjectMessage,
  type StepContext,
  type WriteContext,
} from "../objects/mod.ts";
import {
  desiredPodsService,
  desiredReadOnlyService,
  desiredService,
  type Service,
} from "./service.ts";
import { projectService } from "./service_projection.ts";

/**
 * Makes, updates or removes the Services of `db`.
 *
 * @returns The `ResourceExists` messages for names someone else holds, if any.
 */
export async function ensureServices(
  ctx: StepContext,
  services: CreatedObjects<Service>,
  db: Database,
  spec: DatabaseSpec,
): Promise<string | undefined> {
  const standbyOnly = [desiredPodsService(db), desiredReadOnlyService(db)];
  const wanted = [desiredService(db, spec.replicas), ...(spec.replicas > 1 ? standbyOnly : [])];
  const unwanted = spec.replicas > 1 ? [] : standbyOnly;
  const taken = await allSettledOrThrow(
    ...wanted.map((desired) => ensureService(ctx, services, db, desired)),
    ...unwanted.map((service) => removeService(ctx, services, db, service.metadata.name!)),
  );
  return taken.filter((m) => m).join("; ") || undefined;
}

/** Makes or updates one Service; returns a message when its name is someone else's. */
async function ensureService(
  ctx: WriteContext,
  services: CreatedObjects<Service>,
  db: Database,
  desired: Service,
): Promise<string | undefined> {
  let live = services.get(`${db.metadata.namespace}/${desired.metadata.name}`);
  if (!live) {
    const made = await createOnly(ctx, CORE.services, projectService, services, desired);
    if ("created" in made) return undefined;
    live = made.live;
  }
  if (live && !controlledBy(live, db)) return foreignObjectMessage("Service", live, db);
  await ensureApplied(ctx, CORE.services, live, desired);
  return undefined;
}

/** Deletes a Service the Database no longer needs, if it is there and the Database's. */
async function removeService(
  ctx: StepContext,
  services: CreatedObjects<Service>,
  db: Database,
  name: string,
): Promise<void> {
  const ns = db.metadata.namespace!;
  const live = services.get(`${ns}/${name}`);
  if (!live || !controlledBy(live, db)) return;
  await ctx.client.request("DELETE", objectPath(CORE.services, ns, name), { signal: ctx.signal })
    .catch((error) => {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    });
  ctx.log.info("Deleted", { kind: "Service", name, database: db.metadata.name });
}
