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
import type { Request } from "../runtime/reconcile.ts";
import { CORE, type KubeObject, objectPath } from "../runtime/resource.ts";
import { FIELD_MANAGER } from "./labels.ts";
import { credentialsVersion } from "./credentials.ts";
import { DATABASE_POD_INDEX, type Pod, podProblem, streamingStandbys } from "./pod_health.ts";
import { compareQuantities, isQuantity } from "./quantity.ts";
import {
  desiredSecret,
  generatePassword,
  passwordOf,
  REPLICATION_PASSWORD_KEY,
  type Secret,
  secretName,
} from "./secret.ts";
import {
  desiredPodsService,
  desiredReadOnlyService,
  desiredService,
  podsServiceName,
  readOnlyServiceName,
  ROLE_LABEL,
  type Service,
} from "./service.ts";
import { parseDatabaseSpec } from "./spec.ts";
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
  /** The Database's pods, indexed by {@linkcode DATABASE_POD_INDEX}. */
  pods: Informer<Pod>;
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
  reconcile = async ({ key, logger }: Request): Promise<void> => {
    const log = logger ?? this.#o.logger;
    const db = this.#o.databases.store.get(key);
    if (!db) return; // Deleted: garbage collection removes what it owned.
    if (db.metadata.deletionTimestamp) return await this.#releaseFinalizer(db);
    const parsed = parseDatabaseSpec(db.spec);
    if (!parsed.ok) {
      // Retrying cannot help; the next spec change brings the Database back.
      await this.#writeStatus(db, { kind: "invalid", message: parsed.message });
      this.#o.events.record(db, "Warning", "InvalidSpec", "Validate", parsed.message);
      return;
    }
    try {
      // Independent of each other; the StatefulSet comes after, as its pods read the Secret.
      const [password] = await Promise.all([
        this.#ensureSecret(db, parsed.spec, log),
        this.#ensureServices(db, parsed.spec, log),
      ]);
      const credentials = credentialsVersion(parsed.spec.username, password);
      const observation = await this.#ensureStatefulSet(db, parsed.spec, credentials, log);
      const wasReady = db.status?.ready === true;
      const status = await this.#writeStatus(db, observation);
      if (status.ready && !wasReady) {
        this.#o.events.record(db, "Normal", "Ready", "Reconcile", "All replicas are ready");
      }
    } catch (error) {
      if (error instanceof ApiError) {
        const reason = error.code === 422 || error.code === 400 ? "Rejected" : "ApiError";
        await this.#writeStatus(db, { kind: "error", reason, message: error.message })
          .catch(() => {});
        this.#o.events.record(db, "Warning", reason, "Reconcile", error.message);
      }
      throw error;
    }
  };

  /** Makes sure the Secret exists and is complete; returns the password it holds. */
  async #ensureSecret(db: Database, spec: DatabaseSpec, log: Logger): Promise<string> {
    const ns = db.metadata.namespace!;
    let live = this.#o.secrets.store.get(`${ns}/${secretName(db)}`);
    if (!live) {
      try {
        const password = generatePassword();
        const replication = spec.replicas > 1 ? generatePassword() : undefined;
        await this.#o.client.request("POST", `/api/v1/namespaces/${ns}/secrets`, {
          body: desiredSecret(db, spec, password, replication),
          query: { fieldManager: FIELD_MANAGER },
        });
        this.#created(db, "Secret", secretName(db), log);
        return password;
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 409)) throw error;
        // Created before our cache saw it: read it, never replace its password.
        live = await this.#o.client.request<Secret>(
          "GET",
          objectPath(CORE.secrets, ns, secretName(db)),
        );
      }
    }
    const password = passwordOf(live) ?? generatePassword();
    // Made when standbys are first asked for, then kept (a later scale-up reuses it).
    const replication = passwordOf(live, REPLICATION_PASSWORD_KEY) ??
      (spec.replicas > 1 ? generatePassword() : undefined);
    const desired = desiredSecret(db, spec, password, replication);
    if (!isSubset(desired, live)) await this.#apply(CORE.secrets, desired);
    return password;
  }

  /**
   * The read-write Service, the governing headless one and, with standbys, the read-only one
   * (removed again when replicas go back to 1).
   */
  async #ensureServices(db: Database, spec: DatabaseSpec, log: Logger): Promise<void> {
    const services = this.#o.services;
    await Promise.all([
      this.#ensure(db, CORE.services, services, desiredService(db), log),
      this.#ensure(db, CORE.services, services, desiredPodsService(db), log),
      spec.replicas > 1
        ? this.#ensure(db, CORE.services, services, desiredReadOnlyService(db), log)
        : this.#removeReadOnlyService(db, log),
    ]);
  }

  async #removeReadOnlyService(db: Database, log: Logger): Promise<void> {
    const ns = db.metadata.namespace!;
    if (!this.#o.services.store.get(`${ns}/${readOnlyServiceName(db)}`)) return;
    await this.#o.client.request("DELETE", objectPath(CORE.services, ns, readOnlyServiceName(db)))
      .catch((error) => {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      });
    log.info("Deleted", {
      kind: "Service",
      name: readOnlyServiceName(db),
      database: db.metadata.name,
    });
  }

  /** Labels each pod with its role (ordinal 0 is the primary), for the read-only Service. */
  async #labelRoles(db: Database, pods: Pod[]): Promise<void> {
    await Promise.all(pods.map(async (pod) => {
      const role = pod.metadata.name === `${db.metadata.name}-0` ? "primary" : "replica";
      if (pod.metadata.labels?.[ROLE_LABEL] === role) return;
      await this.#o.client.request(
        "PATCH",
        objectPath(CORE.pods, pod.metadata.namespace, pod.metadata.name!),
        {
          body: { metadata: { labels: { [ROLE_LABEL]: role } } },
          contentType: "application/merge-patch+json",
        },
      ).catch((error) => {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      });
    }));
  }

  async #ensureStatefulSet(
    db: Database,
    spec: DatabaseSpec,
    credentials: string,
    log: Logger,
  ): Promise<Observation> {
    const key = `${db.metadata.namespace}/${db.metadata.name}`;
    const live = this.#o.statefulSets.store.get(key);
    if (live && live.spec?.serviceName !== podsServiceName(db)) {
      // Made by an earlier version, governed by the read-write Service: serviceName cannot
      // change, so the StatefulSet is recreated, its pods and volumes kept (orphaned, then
      // adopted by the new one, which rolls them once). Its deletion brings us back here.
      await this.#o.client.request(
        "DELETE",
        objectPath(CORE.statefulSets, db.metadata.namespace, db.metadata.name!),
        {
          query: { propagationPolicy: "Orphan" },
        },
      );
      log.info("Recreating the StatefulSet for its governing Service", {
        database: db.metadata.name,
      });
      return { kind: "deployed", replicas: spec.replicas };
    }
    // volumeClaimTemplates are immutable: keep the live one, grow PVCs instead.
    const template = live?.spec?.volumeClaimTemplates?.[0] ?? volumeClaimTemplate(db, spec);
    const desired = desiredStatefulSet(db, spec, template, credentials);
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
    const current = await this.#ensure(db, CORE.statefulSets, this.#o.statefulSets, desired, log);
    const pods = this.#o.pods.store.list({ index: DATABASE_POD_INDEX, value: key });
    if (spec.replicas > 1) await this.#labelRoles(db, pods);
    const problem = podProblem(pods);
    return {
      kind: "deployed",
      statefulSet: current,
      replicas: spec.replicas,
      ...(storageProblem ? { storageProblem } : {}),
      ...(problem ? { podProblem: problem } : {}),
      ...(spec.replicas > 1 ? { streamingReplicas: streamingStandbys(db, pods) } : {}),
    };
  }

  /** Applies `desired` unless the cached object already has it; returns the newest object. */
  async #ensure<T extends KubeObject>(
    db: Database,
    type: typeof CORE[keyof typeof CORE],
    informer: Informer<T>,
    desired: T,
    log: Logger,
  ): Promise<T> {
    const live = informer.store.get(`${desired.metadata.namespace}/${desired.metadata.name}`);
    if (live && isSubset(desired, live, sameQuantity)) return live;
    const result = await this.#apply(type, desired);
    if (live) {
      log.info("Updated", { kind: type.kind, object: desired.metadata.name });
      this.#o.events.record(
        db,
        "Normal",
        "Updated",
        "Update",
        `Updated ${type.kind} ${desired.metadata.name}`,
      );
    } else {
      this.#created(db, type.kind, desired.metadata.name!, log);
    }
    return result;
  }

  #apply<T extends KubeObject>(type: typeof CORE[keyof typeof CORE], desired: T): Promise<T> {
    return apply(this.#o.client, type, desired, { fieldManager: FIELD_MANAGER });
  }

  #created(db: Database, kind: string, name: string, log: Logger): void {
    log.info("Created", { kind, object: name });
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

  /** Older versions of the course's operator added a finalizer; nothing needs it now. */
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
