/**
 * Delegated authentication and authorization of HTTP callers, as controller-runtime's
 * `filters.WithAuthenticationAndAuthorization` does for its metrics endpoint: the caller's bearer
 * token is checked with a TokenReview, then the user it names with a SubjectAccessReview for the
 * request's verb on its non-resource path (`get` on `/metrics`).
 *
 * Guarantees:
 * - Raw tokens are never stored or logged: cache keys hold the token's SHA-256.
 * - Concurrent requests with the same token, verb and path share one pair of reviews, so a
 *   scrape storm is not a TokenReview storm.
 * - A review that fails (API server unreachable, timeout) is not cached; the next request asks
 *   again.
 * - Callers cannot starve the operator's other API requests: reviews go through a client of
 *   their own (main.ts gives it a small QPS of its own), at most `maxInFlight` reviews run at
 *   once, and a caller beyond that, or whose review the client's rate limit cannot start before
 *   its timeout, is answered 429 with `Retry-After` at once (nothing queues behind a flood of
 *   junk tokens).
 *
 * Caveats: a revoked token or a removed RoleBinding keeps working for up to `ttlMs`.
 *
 * @module
 */
import { ApiError, type KubeClient } from "../client/mod.ts";
import { type Clock, realClock } from "../time/mod.ts";

/** The outcome of checking one request. */
export type AuthDecision =
  | { status: 200; user: string }
  | { status: 401; reason: string }
  | { status: 403; user: string; reason: string }
  /** Too many reviews at once, or the API server or rate limit said wait; never cached. */
  | { status: 429; reason: string; retryAfterSeconds: number };

/** Options for {@linkcode DelegatingAuthenticator}. */
export interface DelegatingAuthenticatorOptions {
  /**
   * How long a decision is reused. controller-runtime caches an authenticated token for 1 min
   * and an allow for 5 min; we keep both short so revocations take effect within seconds.
   * @default 10_000
   */
  ttlMs?: number;
  /** Most decisions kept; the oldest are dropped first. @default 1_000 */
  maxEntries?: number;
  /**
   * Longest wait for each review (controller-runtime's TokenAccessReviewTimeout), the client's
   * rate limit included. @default 10_000
   */
  reviewTimeoutMs?: number;
  /** Most reviews (a TokenReview and its SubjectAccessReview) running at once. @default 10 */
  maxInFlight?: number;
  /** Source of time for cache lifetimes (monotonic). @default realClock */
  clock?: Clock;
}

/** What a 429 tells callers to wait, in seconds. */
const RETRY_AFTER_SECONDS = 1;

/** The API server could not answer a review; the caller should answer 500 and not cache it. */
export class ReviewFailedError extends Error {
  override name = "ReviewFailedError";
}

interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

interface TokenReview {
  status?: { authenticated?: boolean; user?: UserInfo; error?: string };
}

interface SubjectAccessReview {
  status?: { allowed?: boolean; reason?: string; evaluationError?: string };
}

/** Checks bearer tokens against the API server the `client` talks to. */
export class DelegatingAuthenticator {
  readonly #client: KubeClient;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { expires: number; decision: Promise<AuthDecision> }>();
  #inFlight = 0;

  /**
   * @param client The client reviews go through; give it a rate limit of its own, apart from the
   * client that reconciles.
   */
  constructor(client: KubeClient, options: DelegatingAuthenticatorOptions = {}) {
    this.#client = client;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#maxEntries = options.maxEntries ?? 1_000;
    this.#timeoutMs = options.reviewTimeoutMs ?? 10_000;
    this.#maxInFlight = options.maxInFlight ?? 10;
    this.#clock = options.clock ?? realClock;
  }

  /** Reviews running now; never more than `maxInFlight`. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Decides whether the request with this `Authorization` header may `verb` the `path`.
   * @throws {ReviewFailedError} when the API server cannot answer a review.
   */
  async authorize(
    authorization: string | null | undefined,
    verb: string,
    path: string,
  ): Promise<AuthDecision> {
    const token = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (!token) return { status: 401, reason: "no bearer token" };
    const key = `${await sha256Hex(token)} ${verb} ${path}`;
    const now = this.#clock.now();
    const cached = this.#cache.get(key);
    if (cached && cached.expires > now) return await cached.decision;
    if (this.#inFlight >= this.#maxInFlight) {
      return tooMany(`${this.#inFlight} reviews in flight`);
    }
    this.#inFlight++;
    const review = this.#review(token, verb, path).finally(() => this.#inFlight--);
    const entry = { expires: now + this.#ttlMs, decision: review };
    this.#cache.delete(key); // Re-inserting moves the key to the end of the eviction order.
    this.#cache.set(key, entry);
    for (const oldest of this.#cache.keys()) {
      if (this.#cache.size <= this.#maxEntries) break;
      this.#cache.delete(oldest);
    }
    const forget = () => {
      if (this.#cache.get(key) === entry) this.#cache.delete(key);
    };
    entry.decision.then((decision) => decision.status === 429 && forget(), forget);
    return await entry.decision;
  }

  async #review(token: string, verb: string, path: string): Promise<AuthDecision> {
    try {
      return await this.#reviewOnce(token, verb, path);
    } catch (error) {
      if (error instanceof Throttled) return tooMany(error.message);
      throw error;
    }
  }

  async #reviewOnce(token: string, verb: string, path: string): Promise<AuthDecision> {
    const tokenReview = await this.#post<TokenReview>(
      "/apis/authentication.k8s.io/v1/tokenreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
    );
    const user = tokenReview.status?.user;
    if (!tokenReview.status?.authenticated || !user?.username) {
      return { status: 401, reason: tokenReview.status?.error || "token not authenticated" };
    }
    const access = await this.#post<SubjectAccessReview>(
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          groups: user.groups ?? [],
          ...(user.extra ? { extra: user.extra } : {}),
          nonResourceAttributes: { path, verb },
        },
      },
    );
    if (access.status?.allowed) return { status: 200, user: user.username };
    return {
      status: 403,
      user: user.username,
      reason: access.status?.reason || access.status?.evaluationError || "not allowed",
    };
  }

  async #post<T>(path: string, body: unknown): Promise<T> {
    try {
      return await this.#client.request<T>("POST", path, { body, timeoutMs: this.#timeoutMs });
    } catch (error) {
      if (throttled(error)) throw new Throttled((error as Error).message);
      // The API server's message never contains the token; ours must not either.
      throw new ReviewFailedError(`Review failed: POST ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

/** A review the client's rate limit or the API server (429) would not let through in time. */
class Throttled extends Error {}

function throttled(error: unknown): boolean {
  return error instanceof ApiError && (error.reason === "ClientRateLimited" || error.code === 429);
}

function tooMany(reason: string): AuthDecision {
  return { status: 429, reason, retryAfterSeconds: RETRY_AFTER_SECONDS };
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
