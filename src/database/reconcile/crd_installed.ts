/**
 * Whether the Database CRD is installed, asked once at start: an operator started before
 * `kubectl apply -k manifests/crd` would otherwise only log "Watch interrupted" until its
 * cache-sync timeout, with no hint why.
 *
 * @module
 */
import { ApiError, type KubeClient } from "../../runtime/client/mod.ts";
import type { Logger } from "../../runtime/observability/mod.ts";
import { BACKUP_RESOURCE, DATABASE_RESOURCE } from "../api/mod.ts";

/** The CRD's name, as `kubectl get crd` shows it. */
export const DATABASE_CRD = `${DATABASE_RESOURCE.plural}.${DATABASE_RESOURCE.group}`;
/** The Backup CRD's name, installed beside it by the same `kubectl apply -k manifests/crd`. */
export const BACKUP_CRD = `${BACKUP_RESOURCE.plural}.${BACKUP_RESOURCE.group}`;

/**
 * Asks the API server's discovery for the Database type. When it is missing, logs one error
 * naming the CRD and how to install it, and resolves `false`; the operator keeps waiting (a
 * CRD installed now still lets its caches sync). Any other failure resolves `true`: the
 * watches report it themselves.
 *
 * @example
 * ```ts
 * if (!(await checkDatabaseCrd(client, logger))) console.log("not yet");
 * ```
 */
export async function checkDatabaseCrd(client: KubeClient, logger: Logger): Promise<boolean> {
  const { group, version } = DATABASE_RESOURCE;
  let served: string[] = [];
  try {
    const list = await client.request<{ resources?: { name: string }[] }>(
      "GET",
      `/apis/${group}/${version}`,
    );
    served = (list.resources ?? []).map((r) => r.name);
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 404)) return true;
  }
  const missing = [[DATABASE_RESOURCE.plural, DATABASE_CRD], [BACKUP_RESOURCE.plural, BACKUP_CRD]]
    .filter(([plural]) => !served.includes(plural!)).map(([, crd]) => crd!);
  if (missing.length === 0) return true;
  logger.error(
    (missing.length > 1
      ? `The CustomResourceDefinitions ${missing.join(" and ")} are not installed; install them`
      : `The CustomResourceDefinition ${missing[0]} is not installed; install it`) +
      " with `kubectl apply -k manifests/crd` (or `make install`), then the operator starts",
    { crd: missing[0] },
  );
  return false;
}
