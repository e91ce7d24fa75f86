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
 *
 * Caveats: a revoked token or a removed RoleBinding keeps working for up to `ttlMs`.
 *
 * @module
 */
import type { KubeClient } from "../client/mod.ts";

/** The outcome of checking one request. */
export type AuthDecision =
  | { status: 200; user: string }
  | { status: 401; reason: string }
  | { status: 403; user: string; reason: string };

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
  /** Longest wait for each review (controller-runtime's TokenAccessReviewTimeout). @default 10_000 */
  reviewTimeoutMs?: number;
  /** Clock in ms, for tests. @default Date.now */
  now?: () => number;
}

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
  readonly #now: () => number;
  readonly #cache = new Map<string, { expires: number; decision: Promise<AuthDecision> }>();

  constructor(client: KubeClient, options: DelegatingAuthenticatorOptions = {}) {
    this.#client = client;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#maxEntries = options.maxEntries ?? 1_000;
    this.#timeoutMs = options.reviewTimeoutMs ?? 10_000;
    this.#now = options.now ?? Date.now;
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
    const now = this.#now();
    const cached = this.#cache.get(key);
    if (cached && cached.expires > now) return await cached.decision;
    const entry = { expires: now + this.#ttlMs, decision: this.#review(token, verb, path) };
    this.#cache.delete(key); // Re-inserting moves the key to the end of the eviction order.
    this.#cache.set(key, entry);
    for (const oldest of this.#cache.keys()) {
      if (this.#cache.size <= this.#maxEntries) break;
      this.#cache.delete(oldest);
    }
    entry.decision.catch(() => {
      if (this.#cache.get(key) === entry) this.#cache.delete(key);
    });
    return await entry.decision;
  }

  async #review(token: string, verb: string, path: string): Promise<AuthDecision> {
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
      return await this.#client.request<T>("POST", path, {
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      // The API server's message never contains the token; ours must not either.
      throw new ReviewFailedError(`Review failed: POST ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
