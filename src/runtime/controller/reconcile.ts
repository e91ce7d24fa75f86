/**
 * The user's contract, as in controller-runtime: a reconciler receives the key of an object
 * that may need work and returns what should happen next, or throws.
 *
 * - Return nothing (or `{}`): done; the key's backoff is forgotten.
 * - `{ requeueAfterMs }`: look again after that delay (backoff forgotten).
 * - `{ requeue: true }`: look again after the rate limiter's delay.
 * - Throw an `Error`: logged once with the key, retried with per-key exponential backoff.
 * - Throw a {@linkcode TerminalError}: logged and counted, not retried until the object
 *   changes again.
 *
 * @module
 */
import type { Logger } from "../observability/mod.ts";

/** The object to reconcile. */
export interface Request {
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  name: string;
  /** `namespace/name`, the work-queue key. */
  key: string;
  /**
   * This reconcile's logger, as controller-runtime's `log.FromContext(ctx)`: it adds
   * `controller`, `controllerGroup`, `controllerKind`, the object (`Database: {name,
   * namespace}`), `namespace`, `name` and a fresh `reconcileID` to every line.
   */
  logger?: Logger;
}

/** What the controller should do after a successful reconcile. */
export interface Result {
  /** Requeue through the rate limiter. */
  requeue?: boolean;
  /** Requeue after this many milliseconds. */
  requeueAfterMs?: number;
  /** Priority of the requeued key (higher first). */
  priority?: number;
}

/** Turns requests into actions on the cluster. `signal` aborts on forced shutdown. */
export type Reconciler = (request: Request, signal: AbortSignal) => Promise<Result | void>;

/** A failure that retrying cannot fix (e.g. an invalid spec): recorded, never retried. */
export class TerminalError extends Error {
  override name = "TerminalError";
}
