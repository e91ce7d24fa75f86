/**
 * Honours a kubeconfig's `tls-server-name`: the API server's certificate is checked against that
 * name while the connection goes to the server's own address.
 *
 * Deno's HTTP client takes the TLS server name from the URL and has no way to set it apart, nor
 * to resolve a name to a chosen address. So requests are addressed to
 * `https://<tls-server-name>:<port>` and sent through this relay: an HTTP CONNECT proxy on
 * 127.0.0.1 that ignores the host it is asked for and always connects to the server's address.
 * TLS runs end to end through it (the relay sees only ciphertext), so certificate checks are
 * exactly those of a direct connection.
 *
 * Guarantees: one relay per client; {@linkcode ServerNameRelay.close} stops listening and closes
 * every relayed connection.
 *
 * @module
 */

/** Where the relay connects, whatever it is asked for. */
export interface RelayTarget {
  hostname: string;
  port: number;
}

/** Longest CONNECT request accepted, in bytes. */
const MAX_HEADER = 8 * 1024;

/** A CONNECT proxy on 127.0.0.1 whose every tunnel leads to one address. */
export class ServerNameRelay {
  readonly #listener: Deno.TcpListener;
  readonly #target: RelayTarget;
  readonly #open = new Set<Deno.Conn>();
  #closed = false;

  /** Starts listening on a free port of 127.0.0.1. */
  constructor(target: RelayTarget) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accept();
  }

  /** The proxy URL to give `Deno.createHttpClient`. */
  get url(): string {
    return `http://127.0.0.1:${this.#listener.addr.port}`;
  }

  /** Stops listening and closes every tunnel. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const conn of this.#open) closeQuietly(conn);
    this.#open.clear();
  }

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
    const { head, rest } = await readHead(client);
    if (!head.startsWith("CONNECT ")) {
      await client.write(new TextEncoder().encode("HTTP/1.1 405 Method Not Allowed\r\n\r\n"));
      return;
    }
    const upstream = await Deno.connect(this.#target);
    if (this.#closed) {
      closeQuietly(upstream);
      return;
    }
    this.#open.add(upstream);
    try {
      await client.write(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
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
