/**
 * The user's contract, as in controller-runtime: a reconciler receives the key of an object
 * that may need work and returns what should happen next, or throws.
 *
 * - Return nothing (or `{}`): done; the key's backoff is forgotten.
 * - `{ requeueAfterMs }`: look again after that delay (backoff forgotten).
 * - `{ requeue: true }`: look again after the rate limiter's delay.
 * - Throw an `Error`: logged once with the key, retried with per-key exponential backoff.
 * - Throw a {@linkcode TerminalError} (or an error that has one as its `cause`, or a subclass):
 *   logged and counted, not retried until the object changes again.
 *
 * A requeue keeps the priority the key was handed out with, unless the result names another.
 * {@linkcode reconcileOutcome} is that table as one pure function.
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

/**
 * Whether `error` is terminal: a {@linkcode TerminalError} (subclasses included), or an error
 * that wraps one as its `cause` or among an `AggregateError`'s errors, at any depth (Go's
 * `errors.Is(err, reconcile.TerminalError(nil))`).
 */
export function isTerminal(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending = [error];
  while (pending.length > 0) {
    const next = pending.pop();
    if (next === null || typeof next !== "object" || seen.has(next)) continue;
    seen.add(next);
    if (next instanceof TerminalError) return true;
    if (next instanceof AggregateError) pending.push(...next.errors);
    if ("cause" in next) pending.push(next.cause);
  }
  return false;
}

/** The `result` label of `controller_runtime_reconcile_total`. */
export type ReconcileResultLabel = "success" | "error" | "requeue" | "requeue_after";

/** Every value of {@linkcode ReconcileResultLabel}, for series that exist from start-up. */
export const RECONCILE_RESULT_LABELS: readonly ReconcileResultLabel[] = [
  "success",
  "error",
  "requeue",
  "requeue_after",
];

/** What the controller does with a key after its reconcile: one of the work queue's moves. */
export type QueueAction =
  /** Done: clear the key's backoff. */
  | { kind: "forget" }
  /** Clear the backoff, and queue the key again after `delayMs`. */
  | { kind: "forgetAndAddAfter"; delayMs: number; priority: number }
  /** Queue the key again after the rate limiter's delay (its backoff grows). */
  | { kind: "addRateLimited"; priority: number };

/** How one reconcile ended, and what follows from it. */
export interface ReconcileOutcome {
  action: QueueAction;
  result: ReconcileResultLabel;
  /** The reconcile threw (counted in `controller_runtime_reconcile_errors_total`). */
  error: boolean;
  /** The error was terminal (counted in `…_terminal_reconcile_errors_total`, not retried). */
  terminal: boolean;
}

/**
 * The controller's handling of a reconcile's end, as controller-runtime's `reconcileHandler`:
 * an error wins over any result; then `requeueAfterMs`, then `requeue`, else success.
 *
 * @param ended What the reconciler returned, or the error it threw.
 * @param priority The priority the key was handed out with; requeues keep it unless the result
 * names one.
 */
export function reconcileOutcome(
  ended: { result: Result | void } | { error: unknown },
  priority: number,
): ReconcileOutcome {
  if ("error" in ended) {
    const terminal = isTerminal(ended.error);
    return {
      action: terminal ? { kind: "forget" } : { kind: "addRateLimited", priority },
      result: "error",
      error: true,
      terminal,
    };
  }
  const result = ended.result ?? {};
  const keep = result.priority ?? priority;
  if (result.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
    return {
      action: { kind: "forgetAndAddAfter", delayMs: result.requeueAfterMs, priority: keep },
      result: "requeue_after",
      error: false,
      terminal: false,
    };
  }
  if (result.requeue) {
    return {
      action: { kind: "addRateLimited", priority: keep },
      result: "requeue",
      error: false,
      terminal: false,
    };
  }
  return { action: { kind: "forget" }, result: "success", error: false, terminal: false };
}
