/**
 * A TCP relay on loopback that tests put between a client and the real API server to inject
 * network faults: `pause()` keeps connections open but stops moving bytes (a hung connection),
 * `resume()` lets them flow again, `cut()` drops every open connection.
 *
 * @module
 */

/** Relays `127.0.0.1:<port>` to a target address. */
export class TcpProxy implements AsyncDisposable {
  readonly #listener: Deno.Listener;
  readonly #connections = new Set<Deno.Conn>();
  readonly #accepting: Promise<void>;
  #paused = false;
  #resumed: { promise: Promise<void>; resolve: () => void } = Promise.withResolvers<void>();

  constructor(readonly target: { hostname: string; port: number }) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** The port clients connect to. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Stops relaying bytes, in both directions, on old and new connections. */
  pause(): void {
    this.#paused = true;
    this.#resumed = Promise.withResolvers<void>();
  }

  /** Relays bytes again. */
  resume(): void {
    this.#paused = false;
    this.#resumed.resolve();
  }

  /** Closes every open connection, as a network failure would. */
  cut(): void {
    for (const conn of this.#connections) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    this.#connections.clear();
  }

  async close(): Promise<void> {
    this.#listener.close();
    this.resume();
    this.cut();
    await this.#accepting;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) {
        this.#track(client);
        Deno.connect(this.target).then((server) => {
          this.#track(server);
          this.#pipe(client, server);
          this.#pipe(server, client);
        }, () => this.#drop(client));
      }
    } catch {
      // Listener closed.
    }
  }

  #track(conn: Deno.Conn): void {
    this.#connections.add(conn);
  }

  #drop(conn: Deno.Conn): void {
    this.#connections.delete(conn);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }

  async #pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await from.read(buffer);
        if (n === null) break;
        while (this.#paused) await this.#resumed.promise;
        let written = 0;
        while (written < n) written += await to.write(buffer.subarray(written, n));
      }
    } catch {
      // Either side closed.
    } finally {
      this.#drop(from);
      this.#drop(to);
    }
  }
}
