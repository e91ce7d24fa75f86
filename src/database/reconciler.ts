/**
 * Turns one Database into its Secret, Service and StatefulSet, and reports its status.
 *
 * Reads come from the informer caches only; a write is sent only when the cache shows a
 * difference, so reconciling a converged Database sends no request at all. Objects are written
 * with server-side apply under one field manager, which also reverts conflicting hand edits.
 * The Secret is the exception: it is created with a plain create, so a password already in the
 * cluster (but not yet in the cache) is never overwritten.
 *
 * @module
 */
import { apply, isSubset } from "../runtime/apply.ts";
import type { EventRecorder } from "../runtime/events.ts";
import type { Informer } from "../runtime/informer.ts";
import { ApiError, type KubeClient } from "../runtime/kube_client.ts";
import type { Logger } from "../runtime/logger.ts";
import { type Request, TerminalError } from "../runtime/reconcile.ts";
import { CORE, type KubeObject, objectPath } from "../runtime/resource.ts";
import { FIELD_MANAGER } from "./labels.ts";
import { compareQuantities, isQuantity } from "./quantity.ts";
import { desiredSecret, generatePassword, passwordOf, type Secret, secretName } from "./secret.ts";
import { desiredService, type Service } from "./service.ts";
import { checkDatabaseName, parseDatabaseSpec } from "./spec.ts";
import { desiredStatefulSet, type StatefulSet, volumeClaimTemplate } from "./statefulset.ts";
import { desiredStatus, type Observation, statusChanged } from "./status.ts";
import { growVolumes, STORAGE_SIZE_ANNOTATION } from "./storage.ts";
import { type Database, DATABASE_RESOURCE, type DatabaseSpec, FINALIZER } from "./types.ts";

/** What the reconciler reads and writes through. */
export interface DatabaseReconcilerOptions {
  client: KubeClient;
  databases: Informer<Database>;
  secrets: Informer<Secret>;
  services: Informer<Service>;
  statefulSets: Informer<StatefulSet>;
  events: EventRecorder;
  logger: Logger;
  /** Source of condition timestamps. @default () => new Date() */
  now?: () => Date;
}

/** Quantities that differ in spelling but not in value (`1Gi`, `1024Mi`) are equal. */
function sameQuantity(desired: unknown, live: unknown): boolean {
  return isQuantity(desired) && isQuantity(live) && compareQuantities(desired, live) === 0;
}

/** The Database reconciler; `reconcile` is handed to a controller. */
export class DatabaseReconciler {
  readonly #o: DatabaseReconcilerOptions;

  constructor(options: DatabaseReconcilerOptions) {
    this.#o = options;
  }

  /** Brings one Database's objects and status in line with its spec. */
  reconcile = async ({ key }: Request): Promise<void> => {
    const db = this.#o.databases.store.get(key);
    if (!db) return; // Deleted: garbage collection removes what it owned.
    // The course's finalizer would block a later deletion; drop it whenever it is seen.
    await this.#releaseFinalizer(db);
    if (db.metadata.deletionTimestamp) return;
    // A name or spec the CRD should have refused (an older CRD): Failed, not retried.
    const nameProblem = checkDatabaseName(db.metadata.name!);
    if (nameProblem) return await this.#refuseSpec(db, nameProblem);
    const parsed = parseDatabaseSpec(db.spec);
    if (!parsed.ok) return await this.#refuseSpec(db, parsed.message);
    try {
      // Independent of each other; the StatefulSet comes after, as its pods read the Secret.
      await Promise.all([
        this.#ensureSecret(db, parsed.spec),
        this.#ensure(db, CORE.services, this.#o.services, desiredService(db)),
      ]);
      const observation = await this.#ensureStatefulSet(db, parsed.spec);
      const wasReady = db.status?.ready === true;
      const status = await this.#writeStatus(db, observation);
      if (status.ready && !wasReady) {
        this.#o.events.record(db, "Normal", "Ready", "Reconcile", "All replicas are ready");
      }
    } catch (error) {
      if (error instanceof ApiError && (error.code === 400 || error.code === 422)) {
        // The server refuses what this spec makes (a rule the CRD does not know): the same
        // request fails the same way until the spec changes, so Failed, and no retry loop.
        await this.#writeStatus(db, { kind: "invalid", reason: "Rejected", message: error.message })
          .catch(() => {});
        this.#o.events.record(db, "Warning", "Rejected", "Reconcile", error.message);
        throw new TerminalError(`The API server refused an object: ${error.message}`, {
          cause: error,
        });
      }
      if (error instanceof ApiError) {
        await this.#writeStatus(db, {
          kind: "error",
          reason: "ApiError",
          message: error.message,
        }).catch(() => {});
        this.#o.events.record(db, "Warning", "ApiError", "Reconcile", error.message);
      }
      throw error;
    }
  };

  /** Phase Failed for a spec or name the CRD should have refused (an older CRD, say). */
  async #refuseSpec(db: Database, message: string): Promise<void> {
    await this.#writeStatus(db, { kind: "invalid", reason: "InvalidSpec", message });
    this.#o.events.record(db, "Warning", "InvalidSpec", "Validate", message);
  }

  async #ensureSecret(db: Database, spec: DatabaseSpec): Promise<void> {
    const ns = db.metadata.namespace!;
    let live = this.#o.secrets.store.get(`${ns}/${secretName(db)}`);
    if (!live) {
      try {
        await this.#o.client.request("POST", `/api/v1/namespaces/${ns}/secrets`, {
          body: desiredSecret(db, spec, generatePassword()),
          query: { fieldManager: FIELD_MANAGER },
        });
        this.#created(db, "Secret", secretName(db));
        return;
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 409)) throw error;
        // Created before our cache saw it: read it, never replace its password.
        live = await this.#o.client.request<Secret>(
          "GET",
          objectPath(CORE.secrets, ns, secretName(db)),
        );
      }
    }
    const desired = desiredSecret(db, spec, passwordOf(live) ?? generatePassword());
    if (!isSubset(desired, live)) await this.#apply(CORE.secrets, desired);
  }

  async #ensureStatefulSet(db: Database, spec: DatabaseSpec): Promise<Observation> {
    const key = `${db.metadata.namespace}/${db.metadata.name}`;
    const live = this.#o.statefulSets.store.get(key);
    // volumeClaimTemplates are immutable: keep the live one, grow PVCs instead.
    const template = live?.spec?.volumeClaimTemplates?.[0] ?? volumeClaimTemplate(db, spec);
    const desired = desiredStatefulSet(db, spec, template);
    let storageProblem: string | undefined;
    const appliedSize = live?.metadata.annotations?.[STORAGE_SIZE_ANNOTATION] ??
      template.spec.resources.requests.storage;
    if (live && !sameQuantity(spec.storage.size, appliedSize)) {
      if (compareQuantities(spec.storage.size, appliedSize) > 0) {
        storageProblem = await growVolumes(this.#o.client, db, spec.storage.size, FIELD_MANAGER);
      }
      if (!storageProblem) {
        desired.metadata.annotations = { [STORAGE_SIZE_ANNOTATION]: spec.storage.size };
      }
    } else if (live?.metadata.annotations?.[STORAGE_SIZE_ANNOTATION]) {
      desired.metadata.annotations = { [STORAGE_SIZE_ANNOTATION]: appliedSize };
    }
    const current = await this.#ensure(db, CORE.statefulSets, this.#o.statefulSets, desired);
    return {
      kind: "deployed",
      statefulSet: current,
      replicas: spec.replicas,
      ...(storageProblem ? { storageProblem } : {}),
    };
  }

  /** Applies `desired` unless the cached object already has it; returns the newest object. */
  async #ensure<T extends KubeObject>(
    db: Database,
    type: typeof CORE[keyof typeof CORE],
    informer: Informer<T>,
    desired: T,
  ): Promise<T> {
    const live = informer.store.get(`${desired.metadata.namespace}/${desired.metadata.name}`);
    if (live && isSubset(desired, live, sameQuantity)) return live;
    const result = await this.#apply(type, desired);
    if (live) {
      this.#o.logger.info("Updated", {
        kind: type.kind,
        name: desired.metadata.name,
        database: db.metadata.name,
      });
      this.#o.events.record(
        db,
        "Normal",
        "Updated",
        "Update",
        `Updated ${type.kind} ${desired.metadata.name}`,
      );
    } else {
      this.#created(db, type.kind, desired.metadata.name!);
    }
    return result;
  }

  #apply<T extends KubeObject>(type: typeof CORE[keyof typeof CORE], desired: T): Promise<T> {
    return apply(this.#o.client, type, desired, { fieldManager: FIELD_MANAGER });
  }

  #created(db: Database, kind: string, name: string): void {
    this.#o.logger.info("Created", { kind, name, database: db.metadata.name });
    this.#o.events.record(db, "Normal", "Created", "Create", `Created ${kind} ${name}`);
  }

  async #writeStatus(db: Database, observation: Observation) {
    const status = desiredStatus(db, observation, this.#o.now?.() ?? new Date());
    if (!statusChanged(db, status)) return status;
    await this.#o.client.request(
      "PATCH",
      objectPath(DATABASE_RESOURCE, db.metadata.namespace, db.metadata.name!, "status"),
      {
        body: { status },
        contentType: "application/merge-patch+json",
        query: { fieldManager: FIELD_MANAGER },
      },
    );
    return status;
  }

  /**
   * Older versions of the course's operator added a finalizer; nothing needs it now. Removed on
   * any reconcile, so a Database adopted from the course's operator never waits on it.
   */
  async #releaseFinalizer(db: Database): Promise<void> {
    const finalizers = db.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER)) return;
    await this.#o.client.request(
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
      },
    );
  }
}
