/**
 * What the cache keeps of a credentials Secret: metadata and type, and a digest instead of the
 * data (`secret_digest.ts`), so no password stays in the operator's memory.
 *
 * @module
 */
import { projection } from "../../runtime/cache/mod.ts";
import type { Secret } from "./secret.ts";
import { type CachedSecret, digestSecret } from "./secret_digest.ts";

const secretMetadata = projection<Secret>({ type: true });

/** Cache transform of owned Secrets. */
export function projectSecret(secret: Secret): CachedSecret {
  const digest = digestSecret(secret);
  const { apiVersion, kind, metadata, type } = secretMetadata(secret);
  // One literal, not a spread: V8 lays it out in place, without a separate property array.
  return digest
    ? { apiVersion, kind, metadata, type, digest }
    : { apiVersion, kind, metadata, type };
}
