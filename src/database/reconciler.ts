/**
 * Turns one Database into its Secret, Service and StatefulSet, and reports its status.
 *
 * Reads come from the informer caches; a write is sent only when the cache shows a difference,
 * so reconciling a converged Database sends no request at all. Objects are written with
 * server-side apply under one field manager, which also reverts conflicting hand edits and
 * removes what the spec no longer asks for. An object missing from its cache is created without
 * a read first, with a POST (cheaper for the API server than a create-only apply, and for the
 * Secret a password already in the cluster is never overwritten); only when its name turns out
 * taken is it read, so nothing immutable is rebuilt and nobody else's object is taken over. A
 * POST leaves its fields to an `Update` entry that an apply could not remove, so the first apply
 * to a created object moves them to the apply's entry (`managed_fields.ts`). What a reconcile
 * created counts as cached until the cache shows it (`created_objects.ts`), so the next reconcile,
 * which may run before the watch event arrives, does not create it again. Only objects
 * the Database controls are changed. The Secret's cache holds a digest, not its data
 * (`secret_digest.ts`): it is read whole only when the digest shows it is not as it should be.
 *
 * Creating a Database costs five requests: the Secret, the Service and the StatefulSet (the
 * Services need nothing first; the StatefulSet waits only for the Secret, as its pods must never
 * start on a Secret that is not this Database's), one `Created` Event naming all three, and the
 * status write that reports Ready. Until then the CRD's default shows phase Pending; a status
 * that would only say "creating, nothing ready, nothing wrong" is not written (see `status.ts`).
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
  collectionPath,
  CORE,
  hasUpdateEntry,
  isSubset,
  type KubeClient,
  type KubeObject,
  objectPath,
  type ResourceType,
  upgradeToApply,
  withAppliedHash,
} from "../runtime/client/mod.ts";
import {
  type EventRecorder,
  type Request,
  type Result,
  TerminalError,
} from "../runtime/controller/mod.ts";
import { CreatedObjects, deepFreeze, type Informer } from "../runtime/cache/mod.ts";
import type { Logger } from "../runtime/observability/mod.ts";
import { projectSecret, projectService, projectStatefulSet } from "./cache_projections.ts";
import { FIELD_MANAGER } from "./labels.ts";
import { credentialsVersion } from "./credentials.ts";
import { type CachedSecret, secretUpToDate } from "./secret_digest.ts";
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
  ROLE_LABEL,
  type Service,
} from "./service.ts";
import { parseDatabaseSpec, type ParseDatabaseSpecResult } from "./spec.ts";
import { desiredStatefulSet, type StatefulSet, volumeClaimTemplate } from "./statefulset.ts";
import { desiredStatus, nothingToReport, type Observation, statusChanged } from "./status.ts";
import { createMissingClaims, growVolumes, STORAGE_SIZE_ANNOTATION } from "./storage.ts";
import { type Database, DATABASE_RESOURCE, type DatabaseSpec, FINALIZER, GROUP } from "./types.ts";

/** What the reconciler reads and writes through. */
export interface DatabaseReconcilerOptions {
  client: KubeClient;
  databases: Informer<Database>;
  secrets: Informer<CachedSecret>;
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

/** What one reconcile created and updated (`Kind name`), for one Event of each. */
interface Changes {
  created: string[];
  updated: string[];
}

/** The order objects are named in Events, whatever order the writes finished in. */
const KIND_ORDER = ["Secret", "Service", "StatefulSet", "PersistentVolumeClaim"];

/** The Database reconciler; `reconcile` is handed to a controller. */
export class DatabaseReconciler {
  readonly #o: DatabaseReconcilerOptions;
  /**
   * Parsed specs by the cached (frozen, so unchanging) spec object: validating one took about
   * 140 µs, a twentieth of the operator's CPU in a creation burst, and every reconcile of an
   * unchanged Database would repeat it.
   */
  readonly #parsedSpecs = new WeakMap<object, ParseDatabaseSpecResult>();
  /** The owned objects' caches, with what this reconciler created that they do not show yet. */
  readonly #secrets: CreatedObjects<CachedSecret>;
  readonly #services: CreatedObjects<Service>;
  readonly #statefulSets: CreatedObjects<StatefulSet>;

  constructor(options: DatabaseReconcilerOptions) {
    this.#o = options;
    this.#secrets = new CreatedObjects(options.secrets);
    this.#services = new CreatedObjects(options.services);
    this.#statefulSets = new CreatedObjects(options.statefulSets);
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
    const parsed = this.#parseSpec(db.spec);
    if (!parsed.ok) return await this.#refuseSpec(db, parsed.message, signal);
    const changes: Changes = { created: [], updated: [] };
    try {
      const spec = parsed.spec;
      const [serviceTaken, [secretTaken, deployed]] = await allSettledOrThrow(
        this.#ensureServices(db, spec, changes, log, signal),
        this.#ensureSecretThenStatefulSet(db, spec, changes, log, signal),
      );
      const conflicts = [secretTaken, serviceTaken, deployed.conflict].filter((m) => m);
      if (conflicts.length > 0) {
        deployed.conflict = conflicts.join("; ");
        this.#o.events.record(db, "Warning", "ResourceExists", "Reconcile", deployed.conflict);
      }
      // Readiness is reported by the status (the Ready condition and its transition time), not
      // by an Event as well: a new Database costs the API server one Event.
      await this.#writeStatus(db, deployed, signal);
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
    } finally {
      this.#recordChanges(db, changes, log);
    }
  };

  /**
   * One `Created` and one `Updated` Event, and log line, for what this reconcile wrote, if
   * anything (one line per reconcile, not per object: logging was a tenth of the operator's CPU
   * in a creation burst).
   */
  #recordChanges(db: Database, changes: Changes, log: Logger): void {
    const names = (list: string[]) =>
      [...list].sort((a, b) =>
        KIND_ORDER.indexOf(a.split(" ")[0]!) - KIND_ORDER.indexOf(b.split(" ")[0]!) ||
        a.localeCompare(b)
      ).join(", ");
    if (changes.created.length > 0) {
      const objects = names(changes.created);
      log.info("Created", { objects, database: db.metadata.name });
      this.#o.events.record(db, "Normal", "Created", "Create", `Created ${objects}`);
    }
    if (changes.updated.length > 0) {
      const objects = names(changes.updated);
      log.info("Updated", { objects, database: db.metadata.name });
      this.#o.events.record(db, "Normal", "Updated", "Update", `Updated ${objects}`);
    }
  }

  /**
   * The Secret, then the StatefulSet, which waits for it only because its pods must never start
   * on a Secret that turns out to be someone else's (the Services need nothing first).
   *
   * @returns The Secret's `ResourceExists` message, if any, and what the StatefulSet showed.
   */
  async #ensureSecretThenStatefulSet(
    db: Database,
    spec: DatabaseSpec,
    changes: Changes,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<[string | undefined, Deployed]> {
    const secret = await this.#ensureSecret(db, spec, changes, signal);
    // No StatefulSet on someone else's Secret: its pods would read it.
    if ("conflict" in secret) {
      return [secret.conflict, { kind: "deployed", replicas: spec.replicas }];
    }
    return [
      undefined,
      await this.#ensureStatefulSet(db, spec, secret.credentials, changes, log, signal),
    ];
  }

  #parseSpec(raw: unknown): ParseDatabaseSpecResult {
    if (typeof raw !== "object" || raw === null || !Object.isFrozen(raw)) {
      return parseDatabaseSpec(raw);
    }
    let parsed = this.#parsedSpecs.get(raw);
    if (!parsed) this.#parsedSpecs.set(raw, parsed = deepFreeze(parseDatabaseSpec(raw)));
    return parsed;
  }

  /** Phase Failed for a spec or name the CRD should have refused (an older CRD, say). */
  async #refuseSpec(db: Database, message: string, signal?: AbortSignal): Promise<void> {
    await this.#writeStatus(db, { kind: "invalid", reason: "InvalidSpec", message }, signal);
    this.#o.events.record(db, "Warning", "InvalidSpec", "Validate", message);
  }

  /**
   * Makes or updates the Secret; returns the pods' credentials annotation for what it holds, or a
   * message instead when the name is taken. A cached Secret that is up to date (its digest says
   * so) costs nothing; only one that is not is read whole, for the passwords it keeps.
   */
  async #ensureSecret(
    db: Database,
    spec: DatabaseSpec,
    changes: Changes,
    signal?: AbortSignal,
  ): Promise<{ credentials: string } | { conflict: string }> {
    const ns = db.metadata.namespace!;
    const path = objectPath(CORE.secrets, ns, secretName(db));
    const cached = this.#secrets.get(`${ns}/${secretName(db)}`);
    let live: Secret | undefined;
    if (!cached) {
      try {
        const password = generatePassword();
        const replication = spec.replicas > 1 ? generatePassword() : undefined;
        const created = await this.#o.client.request<Secret>(
          "POST",
          collectionPath(CORE.secrets, ns),
          {
            body: desiredSecret(db, spec, password, replication),
            query: { fieldManager: FIELD_MANAGER },
            signal,
          },
        );
        this.#secrets.created(projectSecret(created));
        this.#created("Secret", secretName(db), changes);
        return { credentials: credentialsVersion(spec.username, password) };
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 409)) throw error;
        // Created before our cache saw it: read it, never replace its password.
        live = await this.#o.client.request<Secret>("GET", path, { signal });
      }
    }
    const seen = live ?? cached!;
    // Another tool's Secret (or an older Database's): never adopted, never overwritten.
    if (!controlledBy(seen, db)) return { conflict: foreignObjectMessage("Secret", seen, db) };
    if (!live && secretUpToDate(cached!, db, spec)) {
      return { credentials: cached!.digest!.credentials };
    }
    // Not as it should be: read it whole, for the passwords it keeps.
    live ??= await this.#o.client.request<Secret>("GET", path, { signal });
    if (!controlledBy(live, db)) return { conflict: foreignObjectMessage("Secret", live, db) };
    const password = passwordOf(live) ?? generatePassword();
    // Made when standbys are first asked for, then kept (a later scale-up reuses it).
    const replication = passwordOf(live, REPLICATION_PASSWORD_KEY) ??
      (spec.replicas > 1 ? generatePassword() : undefined);
    const desired = desiredSecret(db, spec, password, replication);
    if (!isSubset(desired, live)) {
      await this.#apply(CORE.secrets, desired, signal, { object: live, whole: true });
    }
    return { credentials: credentialsVersion(spec.username, password) };
  }

  /**
   * The read-write Service and, with standbys, the governing headless one and the read-only one
   * (both removed again when replicas go back to 1: only standbys use the pods' DNS names);
   * returns a message when a name is taken.
   */
  async #ensureServices(
    db: Database,
    spec: DatabaseSpec,
    changes: Changes,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const standbyOnly = [desiredPodsService(db), desiredReadOnlyService(db)];
    const wanted = [desiredService(db), ...(spec.replicas > 1 ? standbyOnly : [])];
    const unwanted = spec.replicas > 1 ? [] : standbyOnly;
    const taken = await allSettledOrThrow(
      ...wanted.map((desired) => this.#ensureService(db, desired, changes, signal)),
      ...unwanted.map((service) => this.#removeService(db, service.metadata.name!, log, signal)),
    );
    return taken.filter((m) => m).join("; ") || undefined;
  }

  /** Makes or updates one Service; returns a message when its name is someone else's. */
  async #ensureService(
    db: Database,
    desired: Service,
    changes: Changes,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    let live = this.#services.get(`${db.metadata.namespace}/${desired.metadata.name}`);
    if (!live) {
      const made = await this.#createOnly(
        CORE.services,
        projectService,
        this.#services,
        desired,
        changes,
        signal,
      );
      if ("created" in made) return undefined;
      live = made.live;
    }
    if (live && !controlledBy(live, db)) return foreignObjectMessage("Service", live, db);
    await this.#ensure(CORE.services, live, desired, changes, signal);
    return undefined;
  }

  /** Deletes a Service the Database no longer needs, if it is there and the Database's. */
  async #removeService(
    db: Database,
    name: string,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<void> {
    const ns = db.metadata.namespace!;
    const live = this.#services.get(`${ns}/${name}`);
    if (!live || !controlledBy(live, db)) return;
    await this.#o.client.request("DELETE", objectPath(CORE.services, ns, name), { signal })
      .catch((error) => {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      });
    log.info("Deleted", { kind: "Service", name, database: db.metadata.name });
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
    changes: Changes,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<Deployed> {
    let live = this.#statefulSets.get(`${db.metadata.namespace}/${db.metadata.name}`);
    if (!live) {
      const desired = desiredStatefulSet(db, spec, volumeClaimTemplate(db, spec), credentials);
      const made = await this.#createOnly(
        CORE.statefulSets,
        projectStatefulSet,
        this.#statefulSets,
        desired,
        changes,
        signal,
      );
      if ("created" in made) return this.#deployed(db, spec, made.created, undefined, signal);
      // The name is taken: what is there decides, before anything immutable is rebuilt.
      live = made.live;
    }
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
      for (const claim of created) {
        this.#created("PersistentVolumeClaim", claim, changes);
      }
    }
    const current = await this.#ensure(CORE.statefulSets, live, desired, changes, signal);
    return this.#deployed(db, spec, current, storageProblem, signal);
  }

  /** What the StatefulSet and the pods show, once the StatefulSet is as the spec asks. */
  async #deployed(
    db: Database,
    spec: DatabaseSpec,
    current: StatefulSet,
    storageProblem?: string,
    signal?: AbortSignal,
  ): Promise<Deployed> {
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
   * Creates `desired`, which the cache does not hold, unless its name is taken; then reads what
   * holds it (projected like the cache; undefined if it went meanwhile). What it creates stands in
   * `created` until the cache shows it.
   *
   * A POST, not a server-side apply: a create-only apply of a StatefulSet and a Service took the
   * API server 10.7–13.8 CPU seconds per 1,000 Databases, POSTs 6.2–8.8.
   */
  async #createOnly<T extends KubeObject>(
    type: ResourceType,
    project: (object: T) => T,
    created: CreatedObjects<T>,
    desired: T,
    changes: Changes,
    signal?: AbortSignal,
  ): Promise<{ created: T } | { live: T | undefined }> {
    const { object } = withAppliedHash(desired, APPLIED_HASH_ANNOTATION);
    const { namespace, name } = desired.metadata;
    try {
      const made = await this.#o.client.request<T>("POST", collectionPath(type, namespace), {
        body: object,
        query: { fieldManager: FIELD_MANAGER },
        signal,
      });
      created.created(project(made));
      this.#created(type.kind, name!, changes);
      return { created: made };
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409)) throw error;
    }
    try {
      return {
        live: project(
          await this.#o.client.request<T>("GET", objectPath(type, namespace, name!), { signal }),
        ),
      };
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return { live: undefined };
      throw error;
    }
  }

  /**
   * Applies `desired` unless `live` already has it and was applied from the same desired
   * object (see `APPLIED_HASH_ANNOTATION`); returns the newest object.
   */
  async #ensure<T extends KubeObject>(
    type: ResourceType,
    live: T | undefined,
    desired: T,
    changes: Changes,
    signal?: AbortSignal,
  ): Promise<T> {
    const { object, hash } = withAppliedHash(desired, APPLIED_HASH_ANNOTATION);
    if (
      live && live.metadata.annotations?.[APPLIED_HASH_ANNOTATION] === hash &&
      isSubset(object, live, sameQuantity)
    ) {
      return live;
    }
    const result = await this.#apply(type, object, signal, live && { object: live, whole: false });
    if (live) {
      changes.updated.push(`${type.kind} ${desired.metadata.name}`);
    } else {
      this.#created(type.kind, desired.metadata.name!, changes);
    }
    return result;
  }

  /**
   * Applies `desired`. When `live` (the object as cached, or as read `whole`) shows fields a POST
   * of ours left to an `Update` entry, they are first moved to the apply's entry, so the apply
   * can remove them (`managed_fields.ts`); a cached object is read for its entries.
   */
  async #apply<T extends KubeObject>(
    type: ResourceType,
    desired: T,
    signal?: AbortSignal,
    live?: { object: KubeObject; whole: boolean },
  ): Promise<T> {
    if (live && hasUpdateEntry(live.object, FIELD_MANAGER)) {
      const { namespace, name } = live.object.metadata;
      await upgradeToApply(this.#o.client, type, namespace, name!, FIELD_MANAGER, {
        ...(live.whole ? { live: live.object } : {}),
        signal,
      });
    }
    return await apply(this.#o.client, type, desired, {
      fieldManager: FIELD_MANAGER,
      ...(signal ? { signal } : {}),
    });
  }

  #created(kind: string, name: string, changes: Changes): void {
    changes.created.push(`${kind} ${name}`);
  }

  async #writeStatus(db: Database, observation: Observation, signal?: AbortSignal) {
    const status = desiredStatus(db, observation, this.#o.now?.() ?? new Date());
    if (!statusChanged(db, status) || nothingToReport(db, status)) return status;
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

/**
 * Like `Promise.all`, but settles only once every promise has, so no write of a reconcile is
 * still in flight when it ends (and the next reconcile of the same key may start); rejects with
 * the first error.
 */
async function allSettledOrThrow<T extends unknown[]>(
  ...promises: { [K in keyof T]: Promise<T[K]> }
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as T;
}
