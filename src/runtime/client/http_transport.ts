/**
 * The connections under one {@linkcode KubeClient}: a Deno HTTP client that trusts the
 * kubeconfig's CA, presents the current client certificate, and goes through `proxy-url` or,
 * for `tls-server-name`, through a {@linkcode ServerNameRelay}.
 *
 * Guarantees: one HTTP client per client certificate at a time. When an exec plugin hands out a
 * new certificate, the next request gets a new HTTP client and the old one is closed; requests
 * still running on it (watches) end with a network error and are reopened by their callers.
 *
 * @module
 */
import type { Connection } from "./kubeconfig.ts";
import { ServerNameRelay } from "./server_name_relay.ts";

/** Builds and reuses the HTTP client for a connection's current client certificate. */
export class HttpTransport {
  readonly #connection: Connection;
  #current?: { certPem: string | undefined; client: Deno.HttpClient };
  /** Started on first use when the kubeconfig sets `tls-server-name`. */
  #relay?: ServerNameRelay;

  /** Starts nothing: the first {@linkcode HttpTransport.clientFor} does. */
  constructor(connection: Connection) {
    this.#connection = connection;
  }

  /**
   * The HTTP client that presents `certPem` (none when undefined), replacing the previous one
   * when the certificate changed.
   *
   * @param certPem PEM client certificate, if any.
   * @param keyPem Its PEM private key.
   * @returns A client for `fetch`.
   */
  clientFor(certPem: string | undefined, keyPem: string | undefined): Deno.HttpClient {
    if (this.#current && this.#current.certPem === certPem) return this.#current.client;
    this.#current?.client.close();
    const options: Deno.CreateHttpClientOptions = {};
    const c = this.#connection;
    if (c.caPem) options.caCerts = [c.caPem];
    if (certPem && keyPem) Object.assign(options, { cert: certPem, key: keyPem });
    if (c.proxyUrl) options.proxy = proxyOption(c.proxyUrl);
    else if (c.tlsServerName) {
      const server = new URL(c.server);
      this.#relay ??= new ServerNameRelay({
        hostname: server.hostname.replace(/^\[|\]$/g, ""),
        port: Number(server.port || 443),
      });
      options.proxy = { transport: "http", url: this.#relay.url };
    }
    const client = Deno.createHttpClient(options);
    this.#current = { certPem, client };
    return client;
  }

  /** Closes the HTTP client and the relay; a later request opens them again. */
  close(): void {
    this.#current?.client.close();
    this.#current = undefined;
    this.#relay?.close();
    this.#relay = undefined;
  }
}

/** `proxy-url` as Deno wants it: transport, URL without credentials, and basic auth apart. */
function proxyOption(proxyUrl: string): Deno.Proxy {
  const url = new URL(proxyUrl);
  const basicAuth = url.username
    ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
    : undefined;
  const transport = url.protocol.startsWith("socks5") ? "socks5" : url.protocol.slice(0, -1);
  url.username = url.password = "";
  return {
    transport: transport as "http" | "https" | "socks5",
    url: url.href,
    ...(basicAuth ? { basicAuth } : {}),
  };
}
