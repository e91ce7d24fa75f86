/**
 * The pods' credentials version: a digest of the Secret's username and password on the pod
 * template, so a changed Secret rolls the pods, whose init container then applies it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(credentialsVersion("app", "secret").length, 16);
 * assert.notEqual(credentialsVersion("app", "a"), credentialsVersion("app", "b"));
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Pod template annotation whose change restarts the pods with the Secret's credentials. */
export const CREDENTIALS_ANNOTATION = "database.example.com/credentials-version";

/** A digest of the credentials (not reversible; it only has to change when they do). */
export function credentialsVersion(username: string, password: string): string {
  return createHash("sha256").update(`${username}\n${password}`).digest("hex").slice(0, 16);
}
