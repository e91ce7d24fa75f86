/**
 * The Database domain, one room per part of what a Database is made of:
 *
 * | room           | owns                                                                 |
 * |----------------|----------------------------------------------------------------------|
 * | `api/`         | the resource: types, zod mirror of the CRD, names, labels, quantities |
 * | `objects/`     | how owned objects are written: ownership, create/apply, changes       |
 * | `credentials/` | the Secret, its digest, the init script `sync_credentials.sh`         |
 * | `services/`    | the read-write, read-only and headless Services                       |
 * | `instances/`   | the StatefulSet, volume growth, pod roles and health                  |
 * | `status/`      | phase, conditions and the status write                                |
 * | `reconcile/`   | the reconciler's steps in order, the controller's wiring, metrics     |
 *
 * A room imports only rooms above it in this table (`reconcile/` imports all; `status/` reads
 * what `instances/` observed); `tests/architecture_test.ts` checks it. The rooms the next work
 * adds are planned in docs/ARCHITECTURE.md.
 *
 * This module is the surface `main.ts` and tools use: the API and the controller.
 *
 * @module
 */
export * from "./api/mod.ts";
export {
  type DatabaseControllerOptions,
  ENVIRONMENT_INDEX,
  setupDatabaseController,
} from "./reconcile/controller.ts";
export { checkDatabaseCrd, DATABASE_CRD } from "./reconcile/crd_installed.ts";
export { CA_SECRET, ensureCertificateAuthority } from "./tls/mod.ts";
