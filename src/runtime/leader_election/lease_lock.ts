/**
 * The coordination.k8s.io/v1 Lease that a leader election runs on: the narrow
 * {@linkcode LeaseLock} interface the elector sees (client-go's `resourcelock.Interface`), its
 * implementation on the API ({@linkcode KubeLeaseLock}: read, create, and replace the spec with
 * optimistic concurrency, so two candidates writing at once cannot both win), and the pure
 * functions that build the records a candidate writes.
 *
 * @module
 */
import {
  ApiError,
  collectionPath,
  CORE,
  type KubeClient,
  type KubeObject,
  microTime,
  objectPath,
} from "../client/mod.ts";

/** The leader election record, as a Lease stores it. Times are `metav1.MicroTime`. */
export interface LeaseSpec {
  /** Empty or absent when nobody holds the lease (e.g. after a release). */
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** A coordination.k8s.io/v1 Lease. */
export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/**
 * One named Lease as the elector reads and writes it. Tests replace it with a fake; production
 * uses {@linkcode KubeLeaseLock}. Every write must fail (e.g. with a 409) when the Lease changed
 * since the version passed in was read: that is what lets only one candidate win.
 */
export interface LeaseLock {
  readonly namespace: string;
  readonly name: string;
  /** The Lease, or `undefined` when it does not exist. Throws for any other failure. */
  get(signal: AbortSignal): Promise<Lease | undefined>;
  /** Creates the Lease with `spec`; throws when it exists already. */
  create(spec: LeaseSpec, signal: AbortSignal): Promise<Lease>;
  /** Replaces the spec of `lease`, which must be the version last read or written. */
  update(lease: Lease, spec: LeaseSpec, signal: AbortSignal): Promise<Lease>;
  /**
   * Optional: yields the Lease each time it changes (first its current state; `undefined` when
   * it is deleted) until the stream ends; the caller reconnects. Without it, candidates poll.
   */
  watch?(signal: AbortSignal): AsyncIterable<Lease | undefined>;
}

/** A {@linkcode LeaseLock} on the API server (client-go's `resourcelock.LeaseLock`). */
export class KubeLeaseLock implements LeaseLock {
  readonly #client: KubeClient;

  constructor(client: KubeClient, readonly namespace: string, readonly name: string) {
    this.#client = client;
  }

  /**
   * The Lease, or `undefined` when it does not exist.
   * @throws {ApiError} for any other failure.
   */
  async get(signal: AbortSignal): Promise<Lease | undefined> {
    try {
      return await this.#client.request<Lease>(
        "GET",
        objectPath(CORE.leases, this.namespace, this.name),
        { signal },
      );
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  /**
   * Creates the Lease with `spec`.
   * @throws {ApiError} 409 when another candidate created it first.
   */
  create(spec: LeaseSpec, signal: AbortSignal): Promise<Lease> {
    return this.#client.request<Lease>("POST", collectionPath(CORE.leases, this.namespace), {
      body: {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: this.name, namespace: this.namespace },
        spec,
      },
      signal,
    });
  }

  /**
   * Replaces the spec of `lease`, which must be the version last read: the PUT carries its
   * `resourceVersion`, so the write fails if anyone wrote the Lease since.
   * @throws {ApiError} 409 when the Lease changed since `lease` was read.
   */
  update(lease: Lease, spec: LeaseSpec, signal: AbortSignal): Promise<Lease> {
    return this.#client.request<Lease>(
      "PUT",
      objectPath(CORE.leases, this.namespace, this.name),
      { body: { ...lease, spec: { ...lease.spec, ...spec } }, signal },
    );
  }

  /**
   * Yields the Lease each time it changes (first its current state; `undefined` when it is
   * deleted) until the server ends the stream or sends an error. The caller reconnects.
   * @throws {ApiError} when the watch cannot be opened or breaks.
   */
  async *watch(signal: AbortSignal): AsyncGenerator<Lease | undefined> {
    const path = collectionPath(CORE.leases, this.namespace);
    const query = { fieldSelector: `metadata.name=${this.name}` };
    for await (const event of this.#client.watch(path, query, signal)) {
      if (event.type === "ERROR") return;
      if (event.type === "DELETED") yield undefined;
      else if (event.type !== "BOOKMARK") yield event.object as unknown as Lease;
    }
  }
}

/**
 * The fields of the record that matter for the election, as one string: a change of any of them
 * (a renewal, a new holder, a release) is what "the record changed" means.
 */
export function recordKey(spec: LeaseSpec | undefined): string {
  return JSON.stringify([
    spec?.holderIdentity ?? "",
    spec?.leaseDurationSeconds ?? 0,
    spec?.acquireTime ?? "",
    spec?.renewTime ?? "",
    spec?.leaseTransitions ?? 0,
  ]);
}

/**
 * The record `identity` writes to hold the Lease at `nowMs` (wall time): a renewal keeps the
 * acquire time and the transition count of `old`; a takeover starts a new term and counts one
 * transition.
 */
export function holderRecord(
  old: LeaseSpec | undefined,
  identity: string,
  leaseDurationMs: number,
  nowMs: number,
): LeaseSpec {
  const mine = old?.holderIdentity === identity;
  const transitions = old?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
    acquireTime: mine && old?.acquireTime ? old.acquireTime : microTime(nowMs),
    renewTime: microTime(nowMs),
    leaseTransitions: !old || mine ? transitions : transitions + 1,
  };
}

/**
 * The record a holder writes to give the Lease up at `nowMs` (client-go's ReleaseOnCancel):
 * no holder, and a duration of 1 s, so that anyone may take over at once.
 */
export function releasedRecord(old: LeaseSpec | undefined, nowMs: number): LeaseSpec {
  const now = microTime(nowMs);
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: old?.leaseTransitions ?? 0,
  };
}
