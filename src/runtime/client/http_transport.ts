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
import net from "node:net";
import { Readable } from "node:stream";
import tls from "node:tls";
import type { Connection } from "./kubeconfig.ts";

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

/** The exchange failed before an answer arrived (refused, reset, TLS refused, proxy refused). */
export class TransportError extends Error {
  override name = "TransportError";
  constructor(message: string, readonly code: string | undefined, options?: ErrorOptions) {
    super(message, options);
  }

  /**
   * The connection was reset or closed before an answer: client-go's `IsConnectionReset` and
   * `IsProbableEOF`, the errors after which it retries a GET.
   */
  get reset(): boolean {
    return this.code === "ECONNRESET" || this.code === "EPIPE" ||
      /socket hang up|connection reset|broken pipe|unexpected eof/i.test(this.message);
  }
}

/** Longest proxy answer head accepted, in bytes. */
const MAX_PROXY_HEAD = 8 * 1024;

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

/** The URL's host without IPv6 brackets, as node:net wants it. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
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

type ConnectionCallback = (error: Error | null, socket?: net.Socket) => void;

/**
 * A pool whose connections go through `proxy`: a tunnel to the server (HTTP CONNECT or SOCKS5),
 * then, for an `https` server, TLS inside it with the pool's options.
 */
function tunnelAgent(
  secure: boolean,
  options: https.AgentOptions,
  proxy: URL,
  caPem: string | undefined,
): http.Agent {
  const connect = (target: { host: string; port: number }, done: ConnectionCallback) => {
    openTunnel(proxy, target.host, target.port, caPem).then((socket) => {
      if (!secure) return done(null, socket);
      const servername = options.servername ?? (net.isIP(target.host) ? undefined : target.host);
      const secured = tls.connect({
        socket,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
        ...(servername ? { servername } : {}),
      });
      secured.once("secureConnect", () => done(null, secured));
      secured.once("error", (error) => done(error));
    }, (error) => done(error));
  };
  const agent = secure ? new https.Agent(options) : new http.Agent(options);
  // node:http's Agent calls createConnection(options, callback) and takes a socket given later.
  const custom = agent as unknown as {
    createConnection(target: { host?: unknown; port?: unknown }, done: ConnectionCallback): void;
  };
  custom.createConnection = (target, done) => {
    connect({ host: String(target.host), port: Number(target.port) }, done);
  };
  return agent;
}

/** A TCP stream to `host:port` through the proxy, ready for the first byte of the exchange. */
async function openTunnel(
  proxy: URL,
  host: string,
  port: number,
  caPem: string | undefined,
): Promise<net.Socket> {
  const scheme = proxy.protocol.slice(0, -1);
  const proxyHost = hostOf(proxy);
  const proxyPort = Number(
    proxy.port || (scheme === "https" ? 443 : scheme === "http" ? 80 : 1080),
  );
  const socket = scheme === "https"
    // client-go verifies an https proxy with the same roots as the API server.
    ? tls.connect({ host: proxyHost, port: proxyPort, ...(caPem ? { ca: [caPem] } : {}) })
    : net.connect(proxyPort, proxyHost);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once(scheme === "https" ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    const reader = new SocketReader(socket);
    if (scheme.startsWith("socks5")) await socks5Connect(socket, reader, proxy, host, port);
    else await httpConnect(socket, reader, proxy, host, port);
    reader.release();
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/** HTTP CONNECT through an http(s) proxy, with basic auth from the proxy URL. */
async function httpConnect(
  socket: net.Socket,
  reader: SocketReader,
  proxy: URL,
  host: string,
  port: number,
): Promise<void> {
  const authority = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxy.username) {
    const user = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(user).toString("base64")}`);
  }
  socket.write(lines.join("\r\n") + "\r\n\r\n");
  const head = await reader.until("\r\n\r\n");
  const status = head.toString("latin1").split("\r\n")[0] ?? "";
  if (!/^HTTP\/1\.[01] 2\d\d/.test(status)) {
    throw new TransportError(
      `Proxy ${proxy.host} refused CONNECT ${authority}: ${status}`,
      "EPROXY",
    );
  }
}

/** RFC 1928 CONNECT, with RFC 1929 username/password when the proxy URL has them. */
async function socks5Connect(
  socket: net.Socket,
  reader: SocketReader,
  proxy: URL,
  host: string,
  port: number,
): Promise<void> {
  const refuse = (what: string) =>
    new TransportError(`SOCKS5 proxy ${proxy.host}: ${what}`, "EPROXY");
  const user = proxy.username ? decodeURIComponent(proxy.username) : undefined;
  socket.write(Buffer.from(user ? [5, 2, 0, 2] : [5, 1, 0]));
  const [version, method] = await reader.take(2);
  if (version !== 5 || (method !== 0 && method !== 2)) throw refuse("no acceptable method");
  if (method === 2) {
    const name = Buffer.from(user ?? "");
    const password = Buffer.from(decodeURIComponent(proxy.password));
    socket.write(Buffer.concat([
      Buffer.from([1, name.length]),
      name,
      Buffer.from([password.length]),
      password,
    ]));
    if ((await reader.take(2))[1] !== 0) throw refuse("authentication failed");
  }
  // The proxy resolves names (as Go's SOCKS5 dialer lets it): socks5 and socks5h alike.
  const address = net.isIPv4(host)
    ? Buffer.from([1, ...host.split(".").map(Number)])
    : net.isIPv6(host)
    ? Buffer.concat([Buffer.from([4]), ipv6Bytes(host)])
    : Buffer.concat([Buffer.from([3, Buffer.byteLength(host)]), Buffer.from(host)]);
  socket.write(
    Buffer.concat([Buffer.from([5, 1, 0]), address, Buffer.from([port >> 8, port & 0xff])]),
  );
  const reply = await reader.take(4);
  if (reply[1] !== 0) throw refuse(`CONNECT ${host}:${port} failed with code ${reply[1]}`);
  const bound = reply[3] === 1 ? 4 : reply[3] === 4 ? 16 : (await reader.take(1))[0]!;
  await reader.take(bound + 2);
}

function ipv6Bytes(address: string): Buffer {
  const [head = "", tail = ""] = address.split("::");
  const parts = (text: string) => text ? text.split(":") : [];
  const groups = address.includes("::")
    ? [
      ...parts(head),
      ...Array(8 - parts(head).length - parts(tail).length).fill("0"),
      ...parts(tail),
    ]
    : parts(address);
  return Buffer.from(groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

/** Reads a proxy's answer off a socket in exact amounts, then hands the socket back. */
class SocketReader {
  readonly #socket: net.Socket;
  #buffered = Buffer.alloc(0);
  #wake?: () => void;
  #failure?: Error;
  readonly #onData = (chunk: Buffer) => {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    this.#wake?.();
  };
  readonly #onEnd = () => {
    this.#failure ??= new TransportError("Proxy closed the connection", "ECONNRESET");
    this.#wake?.();
  };
  readonly #onError = (error: Error) => {
    this.#failure ??= error;
    this.#wake?.();
  };

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
  }

  /** The next `n` bytes. */
  take(n: number): Promise<Buffer> {
    return this.#read(() => this.#buffered.length >= n ? n : -1);
  }

  /** Everything up to and including `marker`. */
  until(marker: string): Promise<Buffer> {
    return this.#read(() => {
      const at = this.#buffered.indexOf(marker);
      if (at < 0 && this.#buffered.length > MAX_PROXY_HEAD) {
        this.#failure ??= new TransportError("Proxy answer too long", "EPROXY");
      }
      return at < 0 ? -1 : at + marker.length;
    });
  }

  /**
   * Stops reading. Nothing may follow the proxy's answer: the server speaks only after the
   * client (the TLS hello, or the request), so bytes past the answer are a broken proxy.
   * @throws {TransportError} when there are such bytes.
   */
  release(): void {
    this.#socket.off("data", this.#onData);
    this.#socket.off("end", this.#onEnd);
    this.#socket.off("error", this.#onError);
    if (this.#buffered.length > 0) {
      throw new TransportError("Proxy sent data past its answer", "EPROXY");
    }
  }

  async #read(ready: () => number): Promise<Buffer> {
    while (true) {
      const n = ready();
      if (n >= 0) {
        const taken = this.#buffered.subarray(0, n);
        this.#buffered = this.#buffered.subarray(n);
        return taken;
      }
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }
}
