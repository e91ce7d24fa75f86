/**
 * Proxies for the client's `proxy-url` tests, on 127.0.0.1: an HTTP CONNECT proxy (plain or
 * behind TLS) and a SOCKS5 proxy. Whatever address they are asked for, every tunnel leads to one
 * target, so a test can name a server by a host that does not resolve; each records what it was
 * asked.
 *
 * @module
 */

/** Where every tunnel leads. */
export interface ProxyTarget {
  hostname: string;
  port: number;
}

/** Longest CONNECT request accepted, in bytes. */
const MAX_HEADER = 8 * 1024;

/** Shared by both proxies: the listener, the open connections, and piping a tunnel. */
abstract class TunnelingProxy {
  readonly #listener: Deno.Listener;
  readonly #open = new Set<Deno.Conn>();
  readonly #target: ProxyTarget;
  #closed = false;

  constructor(target: ProxyTarget, tls?: { cert: string; key: string }) {
    this.#target = target;
    this.#listener = tls
      ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...tls })
      : Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accept();
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Stops listening and closes every tunnel. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const conn of this.#open) closeQuietly(conn);
    this.#open.clear();
  }

  /** Reads the client's request; resolves the bytes read past it, or null to refuse. */
  protected abstract handshake(client: Deno.Conn): Promise<Uint8Array | null>;

  /** Tells the client the tunnel is open. */
  protected abstract established(client: Deno.Conn): Promise<void>;

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#open.add(conn);
        this.#tunnel(conn).catch(() => {}).finally(() => {
          this.#open.delete(conn);
          closeQuietly(conn);
        });
      }
    } catch {
      // The listener was closed.
    }
  }

  async #tunnel(client: Deno.Conn): Promise<void> {
    const rest = await this.handshake(client);
    if (rest === null) return;
    const upstream = await Deno.connect(this.#target);
    if (this.#closed) return closeQuietly(upstream);
    this.#open.add(upstream);
    try {
      await this.established(client);
      if (rest.length > 0) await upstream.write(rest);
      await Promise.all([
        client.readable.pipeTo(upstream.writable).catch(() => closeQuietly(upstream)),
        upstream.readable.pipeTo(client.writable).catch(() => closeQuietly(client)),
      ]);
    } finally {
      this.#open.delete(upstream);
      closeQuietly(upstream);
    }
  }
}

/** An HTTP CONNECT proxy; with `tls`, clients reach it over TLS (an `https://` proxy-url). */
export class ConnectProxy extends TunnelingProxy {
  /** The head of each CONNECT request it got. */
  readonly requests: string[] = [];
  readonly #secure: boolean;

  constructor(target: ProxyTarget, tls?: { cert: string; key: string }) {
    super(target, tls);
    this.#secure = !!tls;
  }

  /** The URL to put in `proxy-url`. */
  get url(): string {
    return `${this.#secure ? "https" : "http"}://127.0.0.1:${this.port}`;
  }

  protected override async handshake(client: Deno.Conn): Promise<Uint8Array | null> {
    const { head, rest } = await readHead(client);
    this.requests.push(head);
    if (head.startsWith("CONNECT ")) return rest;
    await client.write(new TextEncoder().encode("HTTP/1.1 405 Method Not Allowed\r\n\r\n"));
    return null;
  }

  protected override async established(client: Deno.Conn): Promise<void> {
    await client.write(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
  }
}

/** A SOCKS5 proxy (RFC 1928) that requires username/password authentication (RFC 1929). */
export class Socks5Proxy extends TunnelingProxy {
  /** What each client asked for: `user:password host:port`. */
  readonly requests: string[] = [];

  /** The URL to put in `proxy-url`. */
  get url(): string {
    return `socks5://127.0.0.1:${this.port}`;
  }

  protected override async handshake(client: Deno.Conn): Promise<Uint8Array | null> {
    const [, methods = 0] = await readExactly(client, 2);
    const offered = await readExactly(client, methods);
    if (!offered.includes(2)) {
      await client.write(Uint8Array.of(5, 0xff));
      return null;
    }
    await client.write(Uint8Array.of(5, 2));
    const [, userLength = 0] = await readExactly(client, 2);
    const user = new TextDecoder().decode(await readExactly(client, userLength));
    const [passwordLength = 0] = await readExactly(client, 1);
    const password = new TextDecoder().decode(await readExactly(client, passwordLength));
    await client.write(Uint8Array.of(1, 0));
    const [, , , type] = await readExactly(client, 4);
    let host = "ipv6";
    if (type === 1) host = Array.from(await readExactly(client, 4)).join(".");
    else if (type === 3) {
      const [length = 0] = await readExactly(client, 1);
      host = new TextDecoder().decode(await readExactly(client, length));
    } else await readExactly(client, 16);
    const [high = 0, low = 0] = await readExactly(client, 2);
    this.requests.push(`${user}:${password} ${host}:${(high << 8) | low}`);
    return new Uint8Array(0);
  }

  protected override async established(client: Deno.Conn): Promise<void> {
    await client.write(Uint8Array.of(5, 0, 0, 1, 127, 0, 0, 1, 0, 0));
  }
}

async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(n);
  let filled = 0;
  while (filled < n) {
    const read = await conn.read(buffer.subarray(filled));
    if (read === null) throw new Error("closed early");
    filled += read;
  }
  return buffer;
}

/** Reads up to the end of the request head; returns it and any bytes read past it. */
async function readHead(conn: Deno.Conn): Promise<{ head: string; rest: Uint8Array }> {
  let buffered = new Uint8Array(0);
  const chunk = new Uint8Array(1024);
  while (buffered.length < MAX_HEADER) {
    const n = await conn.read(chunk);
    if (n === null) break;
    const next = new Uint8Array(buffered.length + n);
    next.set(buffered);
    next.set(chunk.subarray(0, n), buffered.length);
    buffered = next;
    const text = new TextDecoder().decode(buffered);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const headBytes = new TextEncoder().encode(text.slice(0, end + 4)).length;
      return { head: text.slice(0, end), rest: buffered.subarray(headBytes) };
    }
  }
  return { head: "", rest: new Uint8Array(0) };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
