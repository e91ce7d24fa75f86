/**
 * Connections through a kubeconfig's `proxy-url`: a tunnel to the API server by HTTP CONNECT
 * (through an `http` or `https` proxy, with basic auth from the URL) or SOCKS5 (RFC 1928, with
 * RFC 1929 username/password), then, for an `https` server, TLS inside it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { TransportError } from "./transport_error.ts";

/** Longest proxy answer head accepted, in bytes. */
const MAX_PROXY_HEAD = 8 * 1024;

/** The URL's host without IPv6 brackets, as node:net wants it. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "");
}

type ConnectionCallback = (error: Error | null, socket?: net.Socket) => void;

/**
 * A pool whose connections go through `proxy`: a tunnel to the server (HTTP CONNECT or SOCKS5),
 * then, for an `https` server, TLS inside it with the pool's options.
 */
export function tunnelAgent(
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
