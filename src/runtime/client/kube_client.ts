/**
 * A small REST client for the Kubernetes API on Deno's `fetch`.
 *
 * Every request, watches included, first takes a token from one client-side token bucket
 * (`--kube-api-qps` / `--kube-api-burst`) and is reported to an observer, which is how
 * `rest_client_requests_total{code,method,host}` is counted, once per attempt.
 *
 * Retries follow client-go's `rest.Request`: an answer of 429 or 5xx with a `Retry-After` of
 * whole seconds is retried after that many seconds, whatever the method (the server asked for
 * it); a connection reset or closed before the answer is retried after 1 s for GET only (other
 * methods may have taken effect). At most 10 retries; each takes a token from the bucket again.
 * A request that is not a watch has a deadline (`timeoutMs`): a retry or a wait for the bucket
 * that would end past it is not started, and the request fails at once.
 *
 * Credentials come from a {@linkcode CredentialSource} (fixed, a rotating token file, or an exec
 * plugin): asked before every request, and told about a 401, after which a renewable credential
 * is renewed and the request sent once more. A client certificate from an exec plugin gets an HTTP
 * client of its own; the connections themselves are the {@linkcode HttpTransport}'s.
 *
 * Why not `@kubernetes/client-node` at run time: importing its `KubeConfig` costs about 84 MiB of
 * RSS and 0.25 s (measured in Deno 2.9.6: 116 MiB peak for a script that only imports it, against
 * 32 MiB for an empty one), which would spend half the operator's memory budget before it caches
 * anything; README.md has the details. The few object shapes the operator needs are declared in
 * `resource.ts` and next to the code that builds them.
 *
 * @module
 */
import { type Credentials, credentialsFor, type CredentialSource } from "./credentials.ts";
import type { Connection } from "./kubeconfig.ts";
import { HttpTransport, TransportError } from "./http_transport.ts";
import { checkMaxLineBytes, LineSplitter, WatchLineTooLongError } from "./watch_lines.ts";
import { ApiError, apiError, retryAfter } from "./api_error.ts";
import type {
  KubeClientOptions,
  Query,
  RawWatchEvent,
  RequestInit,
  RequestObserver,
} from "./client_options.ts";
import {
  type Clock,
  delay,
  realClock,
  timeoutSignal,
  TokenBucket,
  WaitExceedsDeadlineError,
} from "../time/mod.ts";

/** A connection to one API server, shared by everything in the process. */
export class KubeClient {
  readonly #connection: Connection;
  readonly #credentials: CredentialSource;
  readonly #transport: HttpTransport;
  readonly #limiter: TokenBucket;
  readonly #observer: RequestObserver;
  readonly #userAgent: string;
  readonly #host: string;
  readonly #timeoutMs: number;
  readonly #maxWatchLineBytes: number | undefined;
  readonly #maxRetries: number;
  readonly #clock: Clock;

  constructor(connection: Connection, options: KubeClientOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#connection = connection;
    this.#credentials = credentialsFor(connection, this.#clock);
    this.#transport = new HttpTransport(connection);
    this.#limiter = new TokenBucket({
      rate: options.qps ?? 50,
      burst: options.burst ?? 100,
      clock: this.#clock,
    });
    this.#observer = options.observer ?? (() => {});
    this.#userAgent = options.userAgent ?? "postgres-operator";
    this.#host = new URL(connection.server).host;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxWatchLineBytes = checkMaxLineBytes(options.maxWatchLineBytes);
    this.#maxRetries = Math.max(options.maxRetries ?? 10, 0);
  }

  /** The connection this client uses. */
  get connection(): Connection {
    return this.#connection;
  }

  /**
   * Sends one request and decodes the JSON answer.
   * @throws {ApiError} for any non-2xx answer or a network failure.
   */
  async request<T>(method: string, path: string, init: RequestInit = {}): Promise<T> {
    // A hung connection must not hang the caller: bound the whole exchange.
    const timeoutMs = init.timeoutMs ?? this.#timeoutMs;
    const deadline = this.#clock.now() + timeoutMs;
    const timeout = timeoutSignal(this.#clock, timeoutMs, init.signal);
    try {
      const response = await this.#send(
        method,
        path,
        { ...init, signal: timeout.signal },
        deadline,
      );
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (error) {
      if (timeout.expired && !init.signal?.aborted) {
        throw new ApiError(0, "Timeout", `${method} ${path}: no answer in ${timeoutMs} ms`);
      }
      throw error;
    } finally {
      timeout.cancel();
    }
  }

  /**
   * Opens a watch and yields its events until the server ends the stream or `signal` aborts.
   * The caller owns reconnecting; an abort ends the iteration quietly.
   * @throws {ApiError} when the watch cannot be opened or the stream breaks (reason
   * `WatchLineTooLong` for an event longer than `maxWatchLineBytes`).
   */
  async *watch(path: string, query: Query, signal: AbortSignal): AsyncGenerator<RawWatchEvent> {
    const response = await this.#send("GET", path, { query: { ...query, watch: true }, signal });
    const body = response.body;
    if (!body) return;
    const reader = body.getReader();
    // An abort does not always reach a read already waiting on a quiet stream: cancelling the
    // reader ends that read. (Not a race of each read against one long-lived "aborted" promise:
    // every race leaves a reaction on that promise holding the read's chunk, so a watch kept
    // every byte it had received, 28 MiB after 10,000 events of 2.5 KiB.)
    const cancel = () => void reader.cancel(signal.reason).catch(() => {});
    signal.addEventListener("abort", cancel, { once: true });
    // Linear in the stream's length however an event is cut into chunks (see watch_lines.ts).
    const lines = new LineSplitter(this.#maxWatchLineBytes);
    try {
      while (true) {
        if (signal.aborted) return;
        const { done, value } = await reader.read();
        if (done || signal.aborted) return;
        for (const line of lines.push(value)) {
          if (line.trim()) yield JSON.parse(line) as RawWatchEvent;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof WatchLineTooLongError) {
        throw new ApiError(0, "WatchLineTooLong", `Watch ${path}: ${error.message}`, undefined, {
          cause: error,
        });
      }
      throw new ApiError(0, "StreamError", `Watch ${path} broke: ${error}`, undefined, {
        cause: error,
      });
    } finally {
      signal.removeEventListener("abort", cancel);
      // Not awaited: cancelling a stream whose read is still pending can wait on the network.
      reader.cancel().catch(() => {});
    }
  }

  /** Closes pooled connections. */
  close(): void {
    this.#transport.close();
  }

  /**
   * Sends with the rate limit, credentials and retries; resolves with a 2xx answer.
   * @param deadline When the caller gives up, on the clock's scale; none for watches.
   */
  async #send(
    method: string,
    path: string,
    init: RequestInit,
    deadline?: number,
  ): Promise<Response> {
    for (let retries = 0;; retries++) {
      await this.#throttle(method, path, init.signal, deadline);
      let failure: ApiError;
      let retryAfterMs: number | undefined;
      try {
        const response = await this.#authenticated(method, path, init);
        if (response.ok) return response;
        failure = await apiError(method, path, response);
        retryAfterMs = retryAfter(response);
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        failure = new ApiError(
          0,
          "NetworkError",
          `${method} ${path}: ${error.message}`,
          undefined,
          {
            cause: error,
          },
        );
        // client-go: a reset GET is retried as if the server had said `Retry-After: 1`.
        if (error.reset && method === "GET") retryAfterMs = 1000;
      }
      if (retryAfterMs === undefined || retries >= this.#maxRetries) throw failure;
      if (deadline !== undefined && this.#clock.now() + retryAfterMs >= deadline) throw failure;
      if (retryAfterMs > 0) await delay(retryAfterMs, init.signal, this.#clock);
      else init.signal?.throwIfAborted();
    }
  }

  /** One attempt; a renewable credential refused with 401 is renewed and sent once more. */
  async #authenticated(method: string, path: string, init: RequestInit): Promise<Response> {
    let credentials = await this.#credentialsFor(method, path);
    let response = await this.#fetch(method, path, init, credentials);
    // Credentials that can be renewed (exec plugins, token files) get one more try, as client-go.
    if (response.status === 401 && this.#credentials.rejected(credentials)) {
      await response.body?.cancel().catch(() => {});
      credentials = await this.#credentialsFor(method, path);
      response = await this.#fetch(method, path, init, credentials);
    }
    return response;
  }

  async #throttle(
    method: string,
    path: string,
    signal: AbortSignal | undefined,
    deadline: number | undefined,
  ): Promise<void> {
    try {
      await this.#limiter.wait(signal, deadline);
    } catch (error) {
      if (!(error instanceof WaitExceedsDeadlineError)) throw error;
      throw new ApiError(0, "ClientRateLimited", `${method} ${path}: ${error.message}`, undefined, {
        cause: error,
      });
    }
  }

  async #credentialsFor(method: string, path: string): Promise<Credentials> {
    try {
      return await this.#credentials.get();
    } catch (error) {
      this.#observer(method, "<error>", this.#host);
      const message = `${method} ${path}: ${(error as Error).message}`;
      throw new ApiError(0, "CredentialsError", message, undefined, { cause: error });
    }
  }

  async #fetch(
    method: string,
    path: string,
    init: RequestInit,
    credentials: Credentials,
  ): Promise<Response> {
    const url = new URL(this.#connection.server + path);
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = {
      "Accept": "application/json",
      "User-Agent": this.#userAgent,
    };
    if (credentials.token) headers["Authorization"] = `Bearer ${credentials.token}`;
    let body: string | undefined;
    if (init.body !== undefined) {
      headers["Content-Type"] = init.contentType ?? "application/json";
      body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    }
    let response: Response;
    try {
      response = await this.#transport.send({
        method,
        url,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
        ...(credentials.certPem
          ? { certPem: credentials.certPem, keyPem: credentials.keyPem }
          : {}),
      });
    } catch (error) {
      this.#observer(method, "<error>", this.#host);
      if (init.signal?.aborted) throw init.signal.reason;
      throw error;
    }
    this.#observer(method, String(response.status), this.#host);
    return response;
  }
}
