/**
 * The reconcile step for the credentials Secret `<name>-credentials`: made once with fresh
 * passwords, then kept as it should be without ever replacing a password in it.
 *
 * A cached Secret that is up to date (its digest says so) costs nothing; only one that is not is
 * read whole, for the passwords it keeps. A Secret with our name that the Database does not
 * control is never adopted or overwritten.
 *
 * @module
 */
import { ApiError, collectionPath, CORE, isSubset, objectPath } from "../../runtime/client/mod.ts";
import type { CreatedObjects } from "../../runtime/cache/mod.ts";
import { type Database, type DatabaseSpec, FIELD_MANAGER, secretName } from "../api/mod.ts";
import {
  applyObject,
  controlledBy,
  foreignObjectMessage,
  type WriteContext,
} from "../objects/mod.ts";
import { credentialsVersion } from "./credentials_version.ts";
import {
  desiredSecret,
  generatePassword,
  passwordOf,
  REPLICATION_PASSWORD_KEY,
  type Secret,
} from "./secret.ts";
import { type CachedSecret, secretUpToDate } from "./secret_digest.ts";
import {
  certificateCurrent,
  issueServerCertificate,
  TLS_ANNOTATION,
  type TlsSettings,
} from "../tls/mod.ts";
import { projectSecret } from "./secret_projection.ts";

/**
 * What {@linkcode ensureSecret} found: the pods' credentials version for what the Secret holds
 * and, with TLS, which server certificate it carries (`TLS_ANNOTATION`'s value), or, when the
 * name is taken, the `ResourceExists` message.
 */
export type SecretOutcome = { credentials: string; tls?: string } | { conflict: string };

/** Makes or updates the Secret of `db`. */
export async function ensureSecret(
  ctx: WriteContext,
  secrets: CreatedObjects<CachedSecret>,
  db: Database,
  spec: DatabaseSpec,
  /** With the CA: the Secret carries the server certificate, renewed when due. */
  tls?: TlsSettings,
): Promise<SecretOutcome> {
  const { client, signal } = ctx;
  const ns = db.metadata.namespace!;
  const path = objectPath(CORE.secrets, ns, secretName(db));
  const cached = secrets.get(`${ns}/${secretName(db)}`);
  let live: Secret | undefined;
  if (!cached) {
    try {
      const password = generatePassword();
      const replication = spec.replicas > 1 ? generatePassword() : undefined;
      const made = await serving(db, tls);
      const created = await client.request<Secret>("POST", collectionPath(CORE.secrets, ns), {
        body: desiredSecret(db, spec, password, replication, made),
        query: { fieldManager: FIELD_MANAGER },
        signal,
      });
      secrets.created(projectSecret(created));
      ctx.changes.created("Secret", secretName(db));
      return outcome(credentialsVersion(spec.username, password), made?.annotation);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409)) throw error;
      // Created before our cache saw it: read it, never replace its password.
      live = await client.request<Secret>("GET", path, { signal });
    }
  }
  const seen = live ?? cached!;
  // Another tool's Secret (or an older Database's): never adopted, never overwritten.
  if (!controlledBy(seen, db)) return { conflict: foreignObjectMessage("Secret", seen, db) };
  if (!live && secretUpToDate(cached!, db, spec, tls)) {
    return outcome(
      cached!.digest!.credentials,
      tls && cached!.metadata.annotations?.[TLS_ANNOTATION],
    );
  }
  // Not as it should be: read it whole, for the passwords it keeps.
  live ??= await client.request<Secret>("GET", path, { signal });
  if (!controlledBy(live, db)) return { conflict: foreignObjectMessage("Secret", live, db) };
  const password = passwordOf(live) ?? generatePassword();
  // Made when standbys are first asked for, then kept (a later scale-up reuses it).
  const replication = passwordOf(live, REPLICATION_PASSWORD_KEY) ??
    (spec.replicas > 1 ? generatePassword() : undefined);
  const certificate = await serving(db, tls, live);
  const desired = desiredSecret(db, spec, password, replication, certificate);
  if (!isSubset(desired, live)) {
    await applyObject(ctx, CORE.secrets, desired, { object: live, whole: true });
  }
  return outcome(credentialsVersion(spec.username, password), certificate?.annotation);
}

function outcome(credentials: string, tls: string | undefined): SecretOutcome {
  return tls ? { credentials, tls } : { credentials };
}

/** The server certificate to keep (`live`'s, while current) or a new one; none without a CA. */
async function serving(db: Database, tls: TlsSettings | undefined, live?: Secret) {
  if (!tls) return undefined;
  const annotation = live?.metadata?.annotations?.[TLS_ANNOTATION];
  const [cert, key, ca] = ["tls.crt", "tls.key", "ca.crt"].map((k) => live?.data?.[k]);
  if (
    cert && key && ca && atob(ca) === tls.ca.certPem && certificateCurrent(annotation, db, tls)
  ) {
    return {
      certPem: atob(cert),
      keyPem: atob(key),
      caPem: tls.ca.certPem,
      annotation: annotation!,
    };
  }
  return { ...await issueServerCertificate(db, tls), caPem: tls.ca.certPem };
}
