/**
 * The options of a {@linkcode KubeClient} and of its requests, and what a watch yields.
 *
 * @module
 */
import type { Clock } from "../time/mod.ts";

/** Receives one call per finished request (HTTP status as text, or `<error>`). */
export type RequestObserver = (method: string, code: string, host: string) => void;

/** Options for `KubeClient`. */
export interface KubeClientOptions {
  /** Sustained requests per second; `<= 0` turns the limiter off. @default 50 */
  qps?: number;
  /** Requests allowed in a burst above `qps`. @default 100 */
  burst?: number;
  /** Sent as `User-Agent`, shown in API server audit logs. */
  userAgent?: string;
  /** Called once per finished request. */
  observer?: RequestObserver;
  /**
   * Longest a request that is not a watch may take, waits for the rate limiter and retries
   * included. @default 30_000
   */
  timeoutMs?: number;
  /**
   * Longest watch event (one line of the stream) accepted, in bytes; a longer one fails the
   * watch with an `ApiError` of reason `WatchLineTooLong`. @default 64 MiB
   */
  maxWatchLineBytes?: number;
  /** Most retries of one request (client-go's `MaxRetries`); 0 turns retries off. @default 10 */
  maxRetries?: number;
  /** Source of time for the rate limiter, retry delays and timeouts. @default realClock */
  clock?: Clock;
}

/** Query parameters; `undefined` values are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** Options of one request. */
export interface RequestInit {
  query?: Query;
  body?: unknown;
  /** Defaults to `application/json` when there is a body. */
  contentType?: string;
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this request (not for watches). */
  timeoutMs?: number;
}

/** One line of a watch stream. */
export interface RawWatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: Record<string, unknown>;
}
