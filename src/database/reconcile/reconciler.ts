/**
 * Turns one Database into its Secret, Services and StatefulSet, and reports its status: the
 * steps in the order a reader would explain them, each a function in its room with a typed
 * result, and what their outcome means decided here, in one place.
 *
 * 1. `releaseFinalizer` (`finalizer.ts`): the course's finalizer never blocks a deletion.
 * 2. Validate: the name (`api/database_name.ts`) and the spec (`api/spec.ts`); an invalid one is
 *    phase Failed and not retried until the Database changes.
 * 3. `ensureServices` (`services/`), and beside it `ensureSecret` (`credentials/`) then
 *    `ensureStatefulSet` (`instances/`): the StatefulSet waits only for the Secret, as its pods
 *    must never start on a Secret that is not this Database's.
 * 4. `writeStatus` (`status/`), from what the instances step saw.
 *
 * Reads come from the informer caches; a write is sent only when the cache shows a difference
 * (`objects/object_writer.ts`), so reconciling a converged Database sends no request at all.
 * Creating a Database costs five requests: the Secret, the Service and the StatefulSet, one
 * `Created` Event naming all three (`objects/changes.ts`), and the status write that reports
 * Ready. Until then the CRD's default shows phase Pending; a status that would only say
 * "creating, nothing ready, nothing wrong" is not written (see `status.ts`).
 *
 * Outcomes: an object the API server refuses (400/422) is phase Failed and a `TerminalError`;
 * other API errors are retried with backoff; a Degraded Database (an object with our name
 * owned by someone else, volumes that cannot grow) is looked at again after `degradedRetryMs`.
 * Every request carries the reconcile's `AbortSignal`, so a forced shutdown cancels a reconcile
 * that hangs on the API instead of waiting for it.
 *
 * @module
 */
import { ApiError, type KubeClient, type KubeObject } from "../../runtime/client/mod.ts";
import {
  type EventRecorder,
  type Request,
  type Result,
  TerminalError,
} from "../../runtime/controller/mod.ts";
import { CreatedObjects, deepFreeze, type Informer } from "../../runtime/cache/mod.ts";
import type { Logger } from "../../runtime/observability/mod.ts";
import {
  type Backup,
  checkDatabaseName,
  type Database,
  type DatabaseSpec,
  parseDatabaseSpec,
  type ParseDatabaseSpecResult,
  primaryPod,
} from "../api/mod.ts";
import { type CachedSecret, ensureSecret, type SecretOutcome } from "../credentials/mod.ts";
import {
  ensureStatefulSet,
  type InstanceCaches,
  type InstancesOutcome,
  type Pod,
  type StatefulSet,
} from "../instances/mod.ts";
import { allSettledOrThrow, Changes, type StepContext } from "../objects/mod.ts";
import { ensureServices, type Service } from "../services/mod.ts";
import {
  ensureHaObjects,
  ensurePrimary,
  type HaObjectCaches,
  loneInstanceProblem,
  type PrimaryOutcome,
} from "../ha/mod.ts";
import { type Observation, writeStatus } from "../status/mod.ts";
import type { TlsSettings } from "../tls/mod.ts";
import { ensureBackups } from "./archive_step.ts";
import { releaseFinalizer } from "./finalizer.ts";
import { refusedRestore } from "./restore_step.ts";

/** What the reconciler reads and writes through. */
export interface DatabaseReconcilerOptions {
  client: KubeClient;
  databases: Informer<Database>;
  secrets: Informer<CachedSecret>;
  services: Informer<Service>;
  statefulSets: Informer<StatefulSet>;
  /** The Database's pods, indexed by `DATABASE_POD_INDEX`. */
  pods: Informer<Pod>;
  /** The Backups, for `status.backup` (the archive step); none: no archive step. */
  backups?: Informer<Backup>;
  /** With standbys: the instances' ServiceAccounts, Roles, RoleBindings, the primary's PDBs. */
  haObjects: { [K in keyof HaObjectCaches]: Informer<KubeObject> };
  events: EventRecorder;
  logger: Logger;
  /** The operator's CA and the certificates' settings: every Database serves TLS. */
  tls?: TlsSettings;
  /** Source of condition timestamps. @default () => new Date() */
  now?: () => Date;
  /**
   * How soon a Degraded Database is looked at again when no event would bring it back (a
   * StorageClass that now allows expansion, a foreign object deleted).
   * @default 30_000
   */
  degradedRetryMs?: number;
}

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
  readonly #instances: InstanceCaches;
  readonly #haObjects: HaObjectCaches;
  /** When this process wrote each Database's `targetPrimary`. */
  readonly #targetsSince = new Map<string, number>();

  constructor(options: DatabaseReconcilerOptions) {
    this.#o = options;
    this.#secrets = new CreatedObjects(options.secrets);
    this.#services = new CreatedObjects(options.services);
    this.#instances = {
      statefulSets: new CreatedObjects(options.statefulSets),
      pods: options.pods,
    };
    const ha = options.haObjects;
    this.#haObjects = {
      serviceAccounts: new CreatedObjects(ha.serviceAccounts),
      roles: new CreatedObjects(ha.roles),
      roleBindings: new CreatedObjects(ha.roleBindings),
      budgets: new CreatedObjects(ha.budgets),
    };
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
    let db = this.#o.databases.store.get(key);
    if (!db) return; // Deleted: garbage collection removes what it owned.
    await releaseFinalizer(this.#o.client, db, signal);
    if (db.metadata.deletionTimestamp) return;
    // A name or spec the CRD should have refused (an older CRD): Failed, not retried.
    const nameProblem = checkDatabaseName(db.metadata.name!);
    if (nameProblem) return await this.#refuseSpec(db, nameProblem, signal);
    const parsed = this.#parseSpec(db.spec);
    if (!parsed.ok) return await this.#refuseSpec(db, parsed.message, signal);
    const ctx: StepContext = { client: this.#o.client, changes: new Changes(), log, signal };
    try {
      let spec = parsed.spec;
      // A scale-down would remove the primary's pod: first a switchover to ordinal 0, with the
      // instances kept as they are until it has completed.
      const running = this.#o.statefulSets.store.get(key)?.spec?.replicas ?? 0;
      const primaryOrdinal = Number(primaryPod(db).slice(db.metadata.name!.length + 1));
      const moveFirst = running > spec.replicas &&
        (primaryOrdinal >= spec.replicas || Boolean(db.status?.targetPrimary));
      if (moveFirst) spec = { ...spec, replicas: running };
      // spec.restore is immutable: a refused restore runs no instance rather than a loop.
      const refused = refusedRestore(db, this.#o.pods, this.#o.events);
      if (refused) spec = { ...spec, replicas: 0 };
      // With standbys, who the primary is comes first: the Services and labels follow it.
      let primary: PrimaryOutcome | undefined;
      if (spec.replicas > 1) {
        primary = await ensurePrimary(
          this.#haDeps(signal),
          db,
          spec,
          moveFirst ? `${db.metadata.name}-0` : undefined,
        );
        db = primary.db;
      } else if (spec.replicas === 1) {
        const lone = await loneInstanceProblem(this.#haDeps(signal), db);
        primary = { db, problem: lone.problem, requeueAfterMs: lone.recheckAfterMs };
      }
      const current = db;
      const [serviceTaken, [secret, instances]] = await allSettledOrThrow(
        ensureServices(ctx, this.#services, current, spec),
        this.#secretThenInstances(ctx, current, spec),
      );
      const primaryProblem = refused ?? primary?.problem;
      const deployed: Observation = {
        kind: "deployed",
        ...instances,
        ...(primaryProblem ? { primaryProblem } : {}),
      };
      const secretTaken = "conflict" in secret ? secret.conflict : undefined;
      const conflicts = [secretTaken, serviceTaken, instances.conflict].filter((m) => m);
      if (conflicts.length > 0) {
        deployed.conflict = conflicts.join("; ");
        this.#o.events.record(db, "Warning", "ResourceExists", "Reconcile", deployed.conflict);
      }
      // Readiness is reported by the status (the Ready condition and its transition time), not
      // by an Event as well: a new Database costs the API server one Event.
      const status = await this.#writeStatus(db, deployed, signal);
      const archiveAfter = this.#o.backups
        ? await ensureBackups(
          {
            client: this.#o.client,
            pods: this.#o.pods.store,
            backups: this.#o.backups.store,
            events: this.#o.events,
            now: () => this.#o.now?.() ?? new Date(),
            signal,
          },
          db,
          status,
        )
        : undefined;
      // No cache event follows when a foreign object goes or a StorageClass is fixed.
      if (deployed.conflict || deployed.storageProblem) {
        return { requeueAfterMs: this.#o.degradedRetryMs ?? 30_000 };
      }
      const after = [primary?.requeueAfterMs, archiveAfter].filter((ms) => ms !== undefined);
      if (after.length > 0) return { requeueAfterMs: Math.min(...after) };
    } catch (error) {
      return await this.#failed(db, error, signal);
    } finally {
      ctx.changes.record(db, this.#o.events, log);
    }
  };

  #haDeps(signal?: AbortSignal) {
    const { client, pods, statefulSets, events } = this.#o;
    const now = () => (this.#o.now?.() ?? new Date()).getTime();
    return { client, pods, statefulSets, events, now, targetsSince: this.#targetsSince, signal };
  }

  /**
   * The Secret, then the instances, which wait for it only because their pods must never start
   * on a Secret that turns out to be someone else's (the Services need nothing first).
   */
  async #secretThenInstances(
    ctx: StepContext,
    db: Database,
    spec: DatabaseSpec,
  ): Promise<[SecretOutcome, InstancesOutcome]> {
    const [secret, haTaken] = await allSettledOrThrow(
      ensureSecret(ctx, this.#secrets, db, spec, this.#o.tls),
      ensureHaObjects(ctx, this.#haObjects, db, spec),
    );
    // No StatefulSet on someone else's Secret: its pods would read it.
    if ("conflict" in secret) return [secret, { replicas: spec.replicas }];
    if (haTaken) return [secret, { replicas: spec.replicas, conflict: haTaken }];
    return [
      secret,
      await ensureStatefulSet(ctx, this.#instances, db, spec, secret.credentials, secret.tls),
    ];
  }

  /** What a failed step means: the status and Event for it, then the error for the queue. */
  async #failed(db: Database, error: unknown, signal?: AbortSignal): Promise<never> {
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
      await this.#writeStatus(
        db,
        { kind: "error", reason: "ApiError", message: error.message },
        signal,
      )
        .catch(() => {});
      this.#o.events.record(db, "Warning", "ApiError", "Reconcile", error.message);
    }
    throw error;
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

  async #writeStatus(db: Database, observation: Observation, signal?: AbortSignal) {
    const now = this.#o.now?.() ?? new Date();
    return await writeStatus(this.#o.client, db, observation, now, signal);
  }
}
