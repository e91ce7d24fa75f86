/**
 * Turns one Database into its Secret, Service and StatefulSet, and reports its status.
 *
 * Reads come from the informer caches (an owned object missing from its cache is read from the
 * API, so nothing immutable is rebuilt and nobody else's object is taken over); a write is sent
 * only when the cache shows a difference, so reconciling a converged Database sends no request
 * at all. Objects are written with server-side apply under one field manager, which also
 * reverts conflicting hand edits and removes what the spec no longer asks for. The Secret is
 * the exception: it is created with a plain create, so a password already in the cluster (but
 * not yet in the cache) is never overwritten. Only objects the Database controls are changed.
 *
 * Outcomes: an invalid name or spec, or an object the API server refuses (400/422), is phase
 * Failed and not retried until the Database changes; other API errors are retried with
 * backoff; a Degraded Database (an object with our name owned by someone else, volumes that
 * cannot grow) is looked at again after `degradedRetryMs`.
 *
 * Every request carries the reconcile's `AbortSignal`, so a forced shutdown cancels a reconcile
 * that hangs on the API instead of waiting for it.
 *
 * @module
 */
import {
  ApiError,
  apply,
  CORE,
  isSubset,
  type KubeClient,
  type KubeObject,
  objectPath,
  type ResourceType,
  withAppliedHash,
} from "../runtime/client/mod.ts";
import {
  type EventRecorder,
  type Request,
  type Result,
  TerminalError,
} from "../runtime/controller/mod.ts";
import type { Informer } from "../runtime/cache/mod.ts";
import type { Logger } from "../runtime/observability/mod.ts";
import { projectService, projectStatefulSet } from "./cache_projections.ts";
import { FIELD_MANAGER } from "./labels.ts";
import { credentialsVersion } from "./credentials.ts";
import { checkDatabaseName } from "./database_name.ts";
import { controlledBy, foreignObjectMessage } from "./ownership.ts";
import { DATABASE_POD_INDEX, type Pod, podProblem, streamingStandbys } from "./pod_health.ts";
import { compareQuantities, isQuantity, sameQuantity } from "./quantity.ts";
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
import { createMissingClaims, growVolumes, STORAGE_SIZE_ANNOTATION } from "./storage.ts";
import { type Database, DATABASE_RESOURCE, type DatabaseSpec, FINALIZER, GROUP } from "./types.ts";

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
  /**
   * How soon a Degraded Database is looked at again when no event would bring it back (a
   * StorageClass that now allows expansion, a foreign object deleted).
   * @default 30_000
   */
  degradedRetryMs?: number;
}

/** What a reconcile that got past validation observed. */
type Deployed = Extract<Observation, { kind: "deployed" }>;

/** Annotation on owned objects: hash of what the operator last applied (see `apply.ts`). */
export const APPLIED_HASH_ANNOTATION = `${GROUP}/applied-hash`;

/** The Database reconciler; `reconcile` is handed to a controller. */
export class DatabaseReconciler {
  readonly #o: DatabaseReconcilerOptions;

  constructor(options: DatabaseReconcilerOptions) {
    this.#o = options;
  }

  /**
   * Brings one Database's objects and status in line with its spec. `signal` (aborted when a
   * graceful shutdown runs out of time) goes with every request.
   */
  reconcile = async (
    { key, logger }: Request,
    signal?: AbortSignal,
  ): Promise<Result | void> => {
    const log = logger ?? this.#o.logger;
    const db = this.#o.databases.store.get(key);
    if (!db) return; // Deleted: garbage collection removes what it owned.
    // The course's finalizer would block a later deletion; drop it whenever it is seen.
    await this.#releaseFinalizer(db, signal);
    if (db.metadata.deletionTimestamp) return;
    // A name or spec the CRD should have refused (an older CRD): Failed, not retried.
    const nameProblem = checkDatabaseName(db.metadata.name!);
    if (nameProblem) return await this.#refuseSpec(db, nameProblem, signal);
    const parsed = parseDatabaseSpec(db.spec);
    if (!parsed.ok) return await this.#refuseSpec(db, parsed.message, signal);
    try {
      // Independent of each other; the StatefulSet comes after, as its pods read the Secret.
      const [secret, serviceTaken] = await Promise.all([
        this.#ensureSecret(db, parsed.spec, log, signal),
        this.#ensureServices(db, parsed.spec, log, signal),
      ]);
      const secretTaken = "conflict" in secret ? secret.conflict : undefined;
      const deployed: Deployed = "conflict" in secret
        ? { kind: "deployed", replicas: parsed.spec.replicas } // Its pods would read that Secret.
        : await this.#ensureStatefulSet(
          db,
          parsed.spec,
          credentialsVersion(parsed.spec.username, secret.password),
          log,
          signal,
        );
      const conflicts = [secretTaken, serviceTaken, deployed.conflict].filter((m) => m);
      if (conflicts.length > 0) {
        deployed.conflict = conflicts.join("; ");
        this.#o.events.record(db, "Warning", "ResourceExists", "Reconcile", deployed.conflict);
      }
      const wasReady = db.status?.ready === true;
      const status = await this.#writeStatus(db, deployed, signal);
      if (status.ready && !wasReady) {
        this.#o.events.record(db, "Normal", "Ready", "Reconcile", "All replicas are ready");
      }
      // No cache event follows when a foreign object goes or a StorageClass is fixed.
      if (deployed.conflict || deployed.storageProblem) {
        return { requeueAfterMs: this.#o.degradedRetryMs ?? 30_000 };
      }
    } catch (error) {
      if (error instanceof ApiError && (error.code === 400 || error.code === 422)) {
        // The server refuses what this spec makes (a rule the CRD does not know): the same
        // request fails the same way until the spec changes, so Failed, and no retry loop.
        await this.#writeStatus(
          db,
          { kind: "invalid", reason: "Rejected", message: error.message },
          signal,
        ).catch(() => {});
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
        }, signal).catch(() => {});
        this.#o.events.record(db, "Warning", "ApiError", "Reconcile", error.message);
      }
      throw error;
    }
  };

  /** Phase Failed for a spec or name the CRD should have refused (an older CRD, say). */
  async #refuseSpec(db: Database, message: string, signal?: AbortSignal): Promise<void> {
    await this.#writeStatus(db, { kind: "invalid", reason: "InvalidSpec", message }, signal);
    this.#o.events.record(db, "Warning", "InvalidSpec", "Validate", message);
  }

  /**
   * Makes or updates the Secret; returns the password it holds, or a message instead when the
   * name is taken.
   */
  async #ensureSecret(
    db: Database,
    spec: DatabaseSpec,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<{ password: string } | { conflict: string }> {
    const ns = db.metadata.namespace!;
    let live = this.#o.secrets.store.get(`${ns}/${secretName(db)}`);
    if (!live) {
      try {
        const password = generatePassword();
        const replication = spec.replicas > 1 ? generatePassword() : undefined;
        await this.#o.client.request("POST", `/api/v1/namespaces/${ns}/secrets`, {
          body: desiredSecret(db, spec, password, replication),
          query: { fieldManager: FIELD_MANAGER },
          signal,
        });
        this.#created(db, "Secret", secretName(db), log);
        return { password };
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 409)) throw error;
        // Created before our cache saw it: read it, never replace its password.
        live = await this.#o.client.request<Secret>(
          "GET",
          objectPath(CORE.secrets, ns, secretName(db)),
          { signal },
        );
      }
    }
    // Another tool's Secret (or an older Database's): never adopted, never overwritten.
    if (!controlledBy(live, db)) return { conflict: foreignObjectMessage("Secret", live, db) };
    const password = passwordOf(live) ?? generatePassword();
    // Made when standbys are first asked for, then kept (a later scale-up reuses it).
    const replication = passwordOf(live, REPLICATION_PASSWORD_KEY) ??
      (spec.replicas > 1 ? generatePassword() : undefined);
    const desired = desiredSecret(db, spec, password, replication);
    if (!isSubset(desired, live)) await this.#apply(CORE.secrets, desired, signal);
    return { password };
  }

  /**
   * The read-write Service, the governing headless one and, with standbys, the read-only one
   * (removed again when replicas go back to 1); returns a message when a name is taken.
   */
  async #ensureServices(
    db: Database,
    spec: DatabaseSpec,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const wanted = [desiredService(db), desiredPodsService(db)];
    if (spec.replicas > 1) wanted.push(desiredReadOnlyService(db));
    else await this.#removeReadOnlyService(db, log, signal);
    const taken = await Promise.all(wanted.map(async (desired) => {
      const name = desired.metadata.name!;
      const live = await this.#live(
        CORE.services,
        this.#o.services,
        db,
        projectService,
        signal,
        name,
      );
      if (live && !controlledBy(live, db)) return foreignObjectMessage("Service", live, db);
      await this.#ensure(db, CORE.services, live, desired, log, signal);
      return undefined;
    }));
    return taken.filter((m) => m).join("; ") || undefined;
  }

  async #removeReadOnlyService(db: Database, log: Logger, signal?: AbortSignal): Promise<void> {
    const ns = db.metadata.namespace!;
    const live = this.#o.services.store.get(`${ns}/${readOnlyServiceName(db)}`);
    if (!live || !controlledBy(live, db)) return;
    await this.#o.client.request(
      "DELETE",
      objectPath(CORE.services, ns, readOnlyServiceName(db)),
      { signal },
    )
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
  async #labelRoles(db: Database, pods: Pod[], signal?: AbortSignal): Promise<void> {
    await Promise.all(pods.map(async (pod) => {
      const role = pod.metadata.name === `${db.metadata.name}-0` ? "primary" : "replica";
      if (pod.metadata.labels?.[ROLE_LABEL] === role) return;
      await this.#o.client.request(
        "PATCH",
        objectPath(CORE.pods, pod.metadata.namespace, pod.metadata.name!),
        {
          body: { metadata: { labels: { [ROLE_LABEL]: role } } },
          contentType: "application/merge-patch+json",
          signal,
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
    signal?: AbortSignal,
  ): Promise<Deployed> {
    // A cache miss is read from the API before anything immutable is rebuilt from the spec.
    const live = await this.#live(
      CORE.statefulSets,
      this.#o.statefulSets,
      db,
      projectStatefulSet,
      signal,
    );
    if (live && !controlledBy(live, db)) {
      return {
        kind: "deployed",
        replicas: spec.replicas,
        conflict: foreignObjectMessage("StatefulSet", live, db),
      };
    }
    if (live && live.spec?.serviceName !== podsServiceName(db)) {
      // Made by an earlier version, governed by the read-write Service: serviceName cannot
      // change, so the StatefulSet is recreated, its pods and volumes kept (orphaned, then
      // adopted by the new one, which rolls them once). Its deletion brings us back here.
      await this.#o.client.request(
        "DELETE",
        objectPath(CORE.statefulSets, db.metadata.namespace, db.metadata.name!),
        { query: { propagationPolicy: "Orphan" }, signal },
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
    const templateSize = template.spec.resources.requests.storage;
    // A hand-edited annotation that is not a quantity is ignored (and set right below).
    const annotated = live?.metadata.annotations?.[STORAGE_SIZE_ANNOTATION];
    const appliedSize = isQuantity(annotated) ? annotated : templateSize;
    if (live && compareQuantities(spec.storage.size, appliedSize) > 0) {
      storageProblem = await growVolumes(
        this.#o.client,
        db,
        spec.storage.size,
        FIELD_MANAGER,
        signal,
      );
    }
    const grown = live && !storageProblem ? spec.storage.size : appliedSize;
    if (live && (annotated !== undefined || !sameQuantity(grown, templateSize))) {
      desired.metadata.annotations = { [STORAGE_SIZE_ANNOTATION]: grown };
    }
    if (
      live && compareQuantities(spec.storage.size, templateSize) > 0 &&
      spec.replicas > (live.spec?.replicas ?? 0)
    ) {
      // The template would make the new ordinals' claims at the size first asked for.
      const created = await createMissingClaims(
        this.#o.client,
        db,
        template,
        spec.storage.size,
        spec.replicas,
        FIELD_MANAGER,
        signal,
      );
      for (const claim of created) this.#created(db, "PersistentVolumeClaim", claim, log);
    }
    const current = await this.#ensure(db, CORE.statefulSets, live, desired, log, signal);
    const key = `${db.metadata.namespace}/${db.metadata.name}`;
    const pods = this.#o.pods.store.list({ index: DATABASE_POD_INDEX, value: key });
    if (spec.replicas > 1) await this.#labelRoles(db, pods, signal);
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

  /**
   * The cached object named `name` (the Database's name by default); on a cache miss, the
   * object as the API has it (projected like the cache), or undefined when there is none.
   */
  async #live<T extends KubeObject>(
    type: ResourceType,
    informer: Informer<T>,
    db: Database,
    project: (object: T) => T,
    signal?: AbortSignal,
    name = db.metadata.name!,
  ): Promise<T | undefined> {
    const { namespace } = db.metadata;
    const cached = informer.store.get(`${namespace}/${name}`);
    if (cached) return cached;
    try {
      return project(
        await this.#o.client.request<T>("GET", objectPath(type, namespace, name), { signal }),
      );
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  /**
   * Applies `desired` unless `live` already has it and was applied from the same desired
   * object (see `APPLIED_HASH_ANNOTATION`); returns the newest object.
   */
  async #ensure<T extends KubeObject>(
    db: Database,
    type: ResourceType,
    live: T | undefined,
    desired: T,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<T> {
    const { object, hash } = await withAppliedHash(desired, APPLIED_HASH_ANNOTATION);
    if (
      live && live.metadata.annotations?.[APPLIED_HASH_ANNOTATION] === hash &&
      isSubset(object, live, sameQuantity)
    ) {
      return live;
    }
    const result = await this.#apply(type, object, signal);
    if (live) {
      log.info("Updated", {
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
      this.#created(db, type.kind, desired.metadata.name!, log);
    }
    return result;
  }

  #apply<T extends KubeObject>(type: ResourceType, desired: T, signal?: AbortSignal): Promise<T> {
    return apply(this.#o.client, type, desired, {
      fieldManager: FIELD_MANAGER,
      ...(signal ? { signal } : {}),
    });
  }

  #created(db: Database, kind: string, name: string, log: Logger): void {
    log.info("Created", { kind, name, database: db.metadata.name });
    this.#o.events.record(db, "Normal", "Created", "Create", `Created ${kind} ${name}`);
  }

  async #writeStatus(db: Database, observation: Observation, signal?: AbortSignal) {
    const status = desiredStatus(db, observation, this.#o.now?.() ?? new Date());
    if (!statusChanged(db, status)) return status;
    await this.#o.client.request(
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

  /**
   * Older versions of the course's operator added a finalizer; nothing needs it now. Removed on
   * any reconcile, so a Database adopted from the course's operator never waits on it.
   */
  async #releaseFinalizer(db: Database, signal?: AbortSignal): Promise<void> {
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
        signal,
      },
    );
  }
}
