/**
 * A {@linkcode LeaseLock} without an API server, on a {@linkcode FakeClock}: one
 * {@linkcode FakeLeaseStore} plays the server's copy of the Lease (with resourceVersions and
 * conflicts), and each candidate gets a lock of its own whose answers can be slowed down on
 * virtual time or cut off.
 *
 * @module
 */
import { ApiError } from "../../../src/runtime/client/api_error.ts";
import type {
  Lease,
  LeaseLock,
  LeaseSpec,
} from "../../../src/runtime/leader_election/lease_lock.ts";
import type { FakeClock } from "../fake_clock.ts";

/** The server's copy of the Lease. */
export class FakeLeaseStore {
  lease?: Lease;
  #version = 0;
  /** Every stored write: virtual time and the holder written. */
  readonly writes: { at: number; holder: string }[] = [];

  constructor(readonly clock: FakeClock) {}

  create(spec: LeaseSpec): Lease {
    if (this.lease) throw new ApiError(409, "AlreadyExists", 'leases "fake" already exists');
    return this.#store({ metadata: {}, spec });
  }

  update(lease: Lease, spec: LeaseSpec): Lease {
    if (!this.lease) throw new ApiError(404, "NotFound", 'leases "fake" not found');
    if (lease.metadata.resourceVersion !== this.lease.metadata.resourceVersion) {
      throw new ApiError(409, "Conflict", "the object has been modified");
    }
    return this.#store({ ...lease, spec: { ...lease.spec, ...spec } });
  }

  #store(lease: Lease): Lease {
    this.lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      ...lease,
      metadata: {
        name: "fake",
        namespace: "default",
        uid: "lease-uid",
        resourceVersion: String(++this.#version),
      },
    };
    this.writes.push({ at: this.clock.now(), holder: this.lease.spec?.holderIdentity ?? "" });
    return structuredClone(this.lease);
  }
}

/** How long each kind of call takes to answer, in virtual ms; `Infinity` never answers. */
export interface Latency {
  get?: number;
  create?: number;
  update?: number;
}

/**
 * One candidate's view of a {@linkcode FakeLeaseStore}. Writes are stored when sent and
 * answered after their latency, which is the worst case for the writer: others may see the
 * write long before the writer learns it succeeded.
 */
export class FakeLeaseLock implements LeaseLock {
  readonly namespace = "default";
  readonly name = "fake";
  latency: Latency = {};
  /** While true, nothing reaches the store and nothing is answered (a cut-off candidate). */
  partitioned = false;
  /** Calls made, in order. */
  readonly calls: string[] = [];

  constructor(
    readonly clock: FakeClock,
    readonly store: FakeLeaseStore = new FakeLeaseStore(clock),
  ) {}

  get(signal: AbortSignal): Promise<Lease | undefined> {
    return this.#call("get", signal, () => this.store.lease && structuredClone(this.store.lease));
  }

  create(spec: LeaseSpec, signal: AbortSignal): Promise<Lease> {
    return this.#call("create", signal, () => this.store.create(spec));
  }

  update(lease: Lease, spec: LeaseSpec, signal: AbortSignal): Promise<Lease> {
    return this.#call("update", signal, () => this.store.update(lease, spec));
  }

  #call<T>(kind: keyof Latency, signal: AbortSignal, act: () => T): Promise<T> {
    this.calls.push(kind);
    if (signal.aborted) return Promise.reject(signal.reason);
    const ms = this.partitioned ? Infinity : this.latency[kind] ?? 0;
    let outcome: { value: T } | { error: unknown } | undefined;
    if (!this.partitioned) {
      try {
        outcome = { value: act() };
      } catch (error) {
        outcome = { error };
      }
    }
    return new Promise<T>((resolve, reject) => {
      let timer: { cancel(): void } | undefined;
      const onAbort = () => {
        timer?.cancel();
        reject(signal.reason);
      };
      const answer = () => {
        signal.removeEventListener("abort", onAbort);
        if (outcome && "value" in outcome) resolve(outcome.value);
        else reject(outcome?.error);
      };
      if (ms === 0) return queueMicrotask(answer);
      if (Number.isFinite(ms)) timer = this.clock.setTimer(ms, answer);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
