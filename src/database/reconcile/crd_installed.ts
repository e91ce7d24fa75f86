/**
 * Whether the Database CRD is installed, asked once at start: an operator started before
 * `kubectl apply -k manifests/crd` would otherwise only log "Watch interrupted" until its
 * cache-sync timeout, with no hint why.
 *
 * @module
 */
import { ApiError, type KubeClient } from "../../runtime/client/mod.ts";
import type { Logger } from "../../runtime/observability/mod.ts";
import { DATABASE_RESOURCE } from "../api/mod.ts";

/** The CRD's name, as `kubectl get crd` shows it. */
export const DATABASE_CRD = `${DATABASE_RESOURCE.plural}.${DATABASE_RESOURCE.group}`;

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
  const { group, version, plural } = DATABASE_RESOURCE;
  try {
    const list = await client.request<{ resources?: { name: string }[] }>(
      "GET",
      `/apis/${group}/${version}`,
    );
    if (list.resources?.some((r) => r.name === plural)) return true;
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 404)) return true;
  }
  logger.error(
    `The CustomResourceDefinition ${DATABASE_CRD} is not installed; install it with ` +
      "`kubectl apply -k manifests/crd` (or `make install`), then the operator starts",
    { crd: DATABASE_CRD },
  );
  return false;
}
