/**
 * Backups: continuous WAL archiving and base backups to an S3-compatible object store with
 * barman-cloud (in the Database's image), and restores from one.
 *
 * Owns: `barman.sh` and what `spec.backup`/`spec.restore` add to the pods, the Backup kind's
 * Jobs. May import: `api/`, `objects/`, `src/runtime/`.
 *
 * @module
 */
export * from "./barman.ts";
export * from "./store.ts";
export * from "./backup_pod.ts";
export * from "./backup_job.ts";
export * from "./backup_reconciler.ts";
export * from "./archive_status.ts";
export * from "./schedule.ts";
export * from "./restore_refusal.ts";
