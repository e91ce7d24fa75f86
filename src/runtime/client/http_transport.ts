/**
 * The connections under one {@linkcode KubeClient}, on `node:https` (`node:http` for an `http://`
 * server): TLS that trusts only the kubeconfig's CA when it names one, the current client
 * certificate, `tls-server-name`, and `proxy-url` (HTTP CONNECT, through an `http` or `https`
 * proxy, or SOCKS5).
 *
 * Why not `fetch`: Deno's `Deno.createHttpClient({ caCerts })` adds the CA to the built-in roots
 * (Mozilla's, plus `DENO_CERT` and, with `DENO_TLS_CA_STORE=system`, the system's) and has no
 * option to replace them, so any publicly trusted certificate for the API server's name would
 * receive the bearer token. client-go trusts only the kubeconfig's CA when one is given. Deno's
 * `node:tls` does that: an explicit `ca` replaces the root store (Deno 2.9.6,
 * `ext/node/ops/tls_wrap.rs`: "Explicit `ca` replaces the root store"), as in Node.
 * `tests/runtime/client/pinned_ca_test.ts` proves it against a server whose certificate is
 * system-trusted; `tools/bench_client.ts` measures the cost.
 *
 * Trade-offs: HTTP/1.1 only (one connection per concurrent request; a watch holds one), where
 * `fetch` negotiated HTTP/2. `tls-server-name` is the TLS server name (SNI and the name checked)
 * while the connection goes to the server's address, as in client-go.
 *
 * Guarantees: one connection pool per client certificate at a time. When an exec plugin hands
 * out a new certificate, the next request gets a new pool and the old one is closed; requests
 * still running on it (watches) end with a network error and are reopened by their callers.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import type { Connection } from "./kubeconfig.ts";
import { hostOf, tunnelAgent } from "./proxy_tunnel.ts";
import { TransportError } from "./transport_error.ts";

export { TransportError };

/** One HTTP exchange for {@linkcode HttpTransport.send}. */
export interface TransportRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** PEM client certificate and key to present, if any. */
  certPem?: string;
  keyPem?: string;
}

/** Sends requests over pooled connections to one API server. */
export class HttpTransport {
  readonly #connection: Connection;
  readonly #secure: boolean;
  #current?: { certPem: string | undefined; agent: http.Agent };

  /** Opens nothing: the first {@linkcode HttpTransport.send} does. */
  constructor(connection: Connection) {
    this.#connection = connection;
    this.#secure = new URL(connection.server).protocol === "https:";
  }

  /**
   * Sends one request.
   *
   * @returns The answer, its body streaming.
   * @throws {TransportError} when no answer came; the signal's reason when it aborted.
   */
  send(request: TransportRequest): Promise<Response> {
    const agent = this.#agentFor(request.certPem, request.keyPem);
    const url = request.url;
    const headers: Record<string, string> = { ...request.headers };
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    if (body) headers["Content-Length"] = String(body.byteLength);
    const signal = request.signal;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const options: http.RequestOptions = {
        method: request.method,
        host: hostOf(url),
        port: Number(url.port || (this.#secure ? 443 : 80)),
        path: url.pathname + url.search,
        headers,
        agent,
      };
      let incoming: http.IncomingMessage | undefined;
      // Aborts are applied here rather than through node:http's `signal` option, which in Deno
      // 2.9.6 does not end a request sent on a reused keep-alive connection: the request and its
      // response (a watch's stream) are destroyed, so is their connection.
      const onAbort = () => {
        outgoing.destroy(signal?.reason);
        incoming?.destroy(signal?.reason);
        reject(signal?.reason);
      };
      const settled = () => signal?.removeEventListener("abort", onAbort);
      const onResponse = (response: http.IncomingMessage) => {
        incoming = response;
        response.once("end", settled).once("close", settled).once("error", settled);
        resolve(toResponse(request.method, response));
      };
      const outgoing = this.#secure
        ? https.request(options, onResponse)
        : http.request(options, onResponse);
      outgoing.on("error", (error: Error & { code?: string }) => {
        settled();
        if (signal?.aborted) return reject(signal.reason);
        reject(new TransportError(error.message, error.code, { cause: error }));
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      outgoing.end(body);
    });
  }

  /** Closes every pooled connection, and those in use; a later request opens new ones. */
  close(): void {
    this.#current?.agent.destroy();
    this.#current = undefined;
  }

  /** The pool for `certPem`, replacing the previous one when the certificate changed. */
  #agentFor(certPem: string | undefined, keyPem: string | undefined): http.Agent {
    if (this.#current && this.#current.certPem === certPem) return this.#current.agent;
    this.#current?.agent.destroy();
    const c = this.#connection;
    const options: https.AgentOptions = { keepAlive: true };
    // Given, the kubeconfig's CA is the only trust: node:tls's `ca` replaces the root store.
    if (c.caPem) options.ca = [c.caPem];
    if (certPem && keyPem) Object.assign(options, { cert: certPem, key: keyPem });
    if (c.tlsServerName) options.servername = c.tlsServerName;
    const proxy = c.proxyUrl ? new URL(c.proxyUrl) : undefined;
    const agent = proxy
      ? tunnelAgent(this.#secure, options, proxy, c.caPem)
      : this.#secure
      ? new https.Agent(options)
      : new http.Agent({ keepAlive: true });
    this.#current = { certPem, agent };
    return agent;
  }
}

function toResponse(method: string, incoming: http.IncomingMessage): Response {
  const status = incoming.statusCode ?? 0;
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const nullBody = method === "HEAD" || status === 204 || status === 304;
  if (nullBody) incoming.resume();
  // Cancelling the stream (a watch that ends) destroys the response and its connection.
  const body = nullBody ? null : Readable.toWeb(incoming) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: incoming.statusMessage ?? "", headers });
}
