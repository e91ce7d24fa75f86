/**
 * Where a client's credentials come from, behind one small interface: fixed ones from the
 * kubeconfig, a token file that rotates (projected service-account tokens), or an exec plugin.
 * The client asks before every request and reports a 401, so credentials that can be renewed
 * are renewed once and the request is sent again.
 *
 * @module
 */
import { ExecCredentialPlugin, type ExecCredentials } from "./exec_credential.ts";
import type { Connection } from "./kubeconfig.ts";
import { type Clock, realClock } from "../time/mod.ts";

/** What authenticates one request: a bearer token, a client certificate, or both. */
export interface Credentials {
  token?: string;
  certPem?: string;
  keyPem?: string;
}

/** Hands out the credentials to use now. */
export interface CredentialSource {
  /**
   * The credentials for the next request.
   * @throws {ExecPluginError} when an exec plugin fails; {@linkcode Deno.errors.NotFound} when a
   * token file is gone.
   */
  get(): Promise<Credentials>;
  /**
   * The server answered 401 to `rejected`. Returns true when asking again may give other
   * credentials (the caller then retries once), false when they are fixed.
   */
  rejected(rejected: Credentials): boolean;
}

const sources = new WeakMap<Connection, CredentialSource>();

/**
 * The credential source of a connection; every client of one connection shares it, so an exec
 * plugin runs once for all of them.
 *
 * @param connection The resolved kubeconfig or in-cluster connection.
 * @param clock For the token file's re-read interval (monotonic) and exec credentials' expiry
 * (wall time). The first caller's clock is the one the shared source keeps. @default realClock
 * @returns The same source for the same connection object.
 */
export function credentialsFor(
  connection: Connection,
  clock: Clock = realClock,
): CredentialSource {
  let source = sources.get(connection);
  if (!source) {
    source = connection.exec
      ? execSource(
        connection,
        new ExecCredentialPlugin(connection.exec, { now: () => clock.wallNow() }),
      )
      : connection.tokenFile
      ? tokenFileSource(connection, connection.tokenFile, clock)
      : fixedSource(connection);
    sources.set(connection, source);
  }
  return source;
}

function fixed(connection: Connection): Credentials {
  const credentials: Credentials = {};
  if (connection.token) credentials.token = connection.token;
  if (connection.certPem && connection.keyPem) {
    Object.assign(credentials, { certPem: connection.certPem, keyPem: connection.keyPem });
  }
  return credentials;
}

function fixedSource(connection: Connection): CredentialSource {
  const credentials = fixed(connection);
  return { get: () => Promise.resolve(credentials), rejected: () => false };
}

/** Re-read every minute: the kubelet rewrites projected tokens well before they expire. */
const TOKEN_FILE_TTL_MS = 60_000;

/**
 * client-go's `BearerTokenFile` (`transport.NewCachedFileTokenSource`): the file wins over a
 * static `token`; it is read again once a minute and after a 401; a read that fails keeps the
 * last token read, or the static `token` when none was read yet.
 */
function tokenFileSource(connection: Connection, file: string, clock: Clock): CredentialSource {
  const base = fixed(connection);
  let cached: { credentials: Credentials; readAt: number } | undefined;
  /** The last token the file gave; kept across a forgotten cache, for failed re-reads. */
  let last: Credentials | undefined;
  return {
    async get() {
      if (!cached || clock.now() - cached.readAt >= TOKEN_FILE_TTL_MS) {
        let token: string;
        try {
          token = (await Deno.readTextFile(file)).trim();
        } catch (error) {
          const fallback = last ?? (base.token ? base : undefined);
          if (!fallback) throw error;
          // Try the file again on the next request rather than a minute later.
          return fallback;
        }
        last = last?.token === token ? last : { ...base, token };
        cached = { credentials: last, readAt: clock.now() };
      }
      return cached.credentials;
    },
    rejected(credentials) {
      if (cached?.credentials === credentials) cached = undefined;
      return true;
    },
  };
}

function execSource(connection: Connection, plugin: ExecCredentialPlugin): CredentialSource {
  const base = fixed(connection);
  // Each plugin credential and what it became, both ways, so a 401 can be traced back to it.
  const built = new WeakMap<ExecCredentials, Credentials>();
  const origin = new WeakMap<Credentials, ExecCredentials>();
  return {
    async get() {
      const fresh = await plugin.get();
      let credentials = built.get(fresh);
      if (!credentials) {
        // A certificate from the plugin replaces the kubeconfig's, as in client-go.
        credentials = fresh.certPem
          ? { certPem: fresh.certPem, keyPem: fresh.keyPem! }
          : { ...base };
        const token = fresh.token ?? base.token;
        if (token) credentials.token = token;
        built.set(fresh, credentials);
        origin.set(credentials, fresh);
      }
      return credentials;
    },
    rejected(credentials) {
      const from = origin.get(credentials);
      if (from) plugin.invalidate(from);
      return true;
    },
  };
}
