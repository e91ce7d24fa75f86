/**
 * The Prometheus endpoint `/metrics` on `--metrics-bind-address`, as controller-runtime's
 * metrics server:
 *
 * - Secure (the default): HTTPS; each caller's bearer token is checked with a TokenReview and a
 *   SubjectAccessReview for `get` on `/metrics` ({@linkcode DelegatingAuthenticator}). No or an
 *   invalid token → 401, not allowed → 403, review failed → 500, too many reviews at once (or
 *   throttled) → 429 with `Retry-After`, allowed → 200.
 * - Insecure (`--metrics-secure=false`): plain HTTP, no authentication.
 *
 * The certificate is `tls.crt`/`tls.key` from `certDir`, swapped in place when the files change
 * (no restart, no dropped connections), or else self-signed and made in memory at start.
 *
 * HTTP/2 is offered only when asked for (`--enable-http2`), as controller-runtime does since the
 * HTTP/2 Rapid Reset and Stream Cancellation attacks (CVE-2023-44487, CVE-2023-39325).
 * `Deno.serve` always offers `h2` through ALPN and has no option to turn it off, so this server
 * is built on `node:https` (ALPN `http/1.1` only) or, with HTTP/2, `node:http2` with HTTP/1.1
 * fallback; both can also swap their certificate while running, which `Deno.serve` cannot.
 *
 * @module
 */
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type client from "prom-client";
import type { DelegatingAuthenticator } from "./authenticator.ts";
import type { Logger } from "../observability/mod.ts";
import {
  type KeyPair,
  loadKeyPair,
  selfSignedKeyPair,
  watchKeyPair,
} from "./serving_certificate.ts";

/** HTTPS with authentication and authorization. */
export interface SecureServingOptions {
  authenticator: DelegatingAuthenticator;
  /** Folder with `tls.crt` and `tls.key`. @default a self-signed certificate */
  certDir?: string;
  /** Offer HTTP/2 as well as HTTP/1.1. @default false */
  http2?: boolean;
  /** How often `certDir` is checked for a new pair. @default 10_000 (controller-runtime's) */
  certCheckIntervalMs?: number;
}

/** Options for {@linkcode serveMetrics}. */
export interface MetricsServerOptions {
  address: { hostname: string; port: number };
  registry: client.Registry;
  logger: Logger;
  /** Absent: plain HTTP that anyone who reaches the port may read. */
  secure?: SecureServingOptions;
}

/** A listening metrics server. */
export interface MetricsServer {
  /** Where it listens (the real port when port 0 was asked for). */
  address: { hostname: string; port: number };
  /** Resolves once the server has closed after the signal aborted. */
  finished: Promise<void>;
}

interface Request {
  method?: string;
  url?: string;
  headers: { authorization?: string | undefined };
}

interface Response {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body: string): unknown;
}

/**
 * Starts listening and serves until `signal` aborts.
 * @throws {Error} when the port cannot be bound or the certificate in `certDir` is unusable.
 */
export async function serveMetrics(
  options: MetricsServerOptions,
  signal: AbortSignal,
): Promise<MetricsServer> {
  const { address, secure } = options;
  const log = options.logger.child({ server: "metrics" });
  const listener = (request: Request, response: Response) => {
    handle(request, options, log).then(
      ({ status, body, contentType, headers }) => {
        response.writeHead(status, {
          "Content-Type": contentType ?? "text/plain; charset=utf-8",
          ...headers,
        });
        response.end(body);
      },
      (error) => {
        log.error("Serving metrics failed", { error });
        response.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
        response.end("Internal Server Error\n");
      },
    );
  };
  let tlsServer: https.Server | http2.Http2SecureServer | undefined;
  let pair: KeyPair | undefined;
  if (secure) {
    pair = secure.certDir
      ? await loadKeyPair(secure.certDir)
      : await selfSignedKeyPair(address.hostname === "0.0.0.0" ? [] : [address.hostname]);
    const tls = { ...pair, ALPNProtocols: secure.http2 ? ["h2", "http/1.1"] : ["http/1.1"] };
    tlsServer = secure.http2
      ? http2.createSecureServer({ ...tls, allowHTTP1: true }, listener)
      : https.createServer(tls, listener);
  }
  const server = tlsServer ?? http.createServer(listener);
  // Closing stops new connections only; idle keep-alive connections (HTTP/2 sessions above all)
  // would hold shutdown open, so they are tracked and ended.
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  if (tlsServer && pair && secure?.certDir) {
    const certDir = secure.certDir;
    const reloading = tlsServer;
    watchKeyPair(certDir, pair, {
      intervalMs: secure.certCheckIntervalMs ?? 10_000,
      onChange: (next) => {
        reloading.setSecureContext(next);
        log.info("Serving certificate reloaded", { certDir });
      },
      onError: (error) => log.warn("Keeping the current certificate", { error }),
      signal,
    });
  }
  const bound = server.address() as AddressInfo;
  const listening = { hostname: address.hostname, port: bound.port };
  log.info("Serving metrics", {
    address: `${listening.hostname}:${listening.port}`,
    secure: !!secure,
    http2: !!secure?.http2,
    certificate: secure ? secure.certDir ?? "self-signed" : "none",
  });
  const finished = new Promise<void>((resolve) => {
    const close = () => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    };
    if (signal.aborted) close();
    else signal.addEventListener("abort", close, { once: true });
  });
  return { address: listening, finished };
}

async function handle(
  request: Request,
  options: MetricsServerOptions,
  log: Logger,
): Promise<
  { status: number; body: string; contentType?: string; headers?: Record<string, string> }
> {
  const path = new URL(request.url ?? "/", "http://metrics").pathname;
  if (path !== "/metrics") return { status: 404, body: "Not Found\n" };
  if (request.method !== "GET") return { status: 405, body: "Method Not Allowed\n" };
  const authenticator = options.secure?.authenticator;
  if (authenticator) {
    const decision = await authenticator.authorize(request.headers.authorization, "get", path)
      .catch((error) => {
        log.error("Authentication failed", { error });
        return undefined;
      });
    if (!decision) return { status: 500, body: "Authentication failed\n" };
    if (decision.status === 401) {
      log.debug("Unauthorized metrics request", { reason: decision.reason });
      return { status: 401, body: "Unauthorized\n" };
    }
    if (decision.status === 429) {
      log.debug("Throttled metrics request", { reason: decision.reason });
      return {
        status: 429,
        body: "Too Many Requests\n",
        headers: { "Retry-After": String(decision.retryAfterSeconds) },
      };
    }
    if (decision.status === 403) {
      log.debug("Forbidden metrics request", decision);
      return { status: 403, body: `Authorization denied for user ${decision.user}\n` };
    }
  }
  return {
    status: 200,
    body: await options.registry.metrics(),
    contentType: options.registry.contentType,
  };
}
