/**
 * The CRD's rules on a Database's `metadata.name`, mirrored for objects admitted under an older
 * CRD: the name becomes a Service (a DNS-1035 label) and the StatefulSet whose pods carry it in
 * a label, so a name that breaks them would never run.
 *
 * @module
 */

/** A DNS-1035 label, for `metadata.name`: the Service of that name requires it. */
export const NAME_PATTERN = "^[a-z]([-a-z0-9]*[a-z0-9])?$";

/**
 * Most characters of `metadata.name`: the StatefulSet's pods get the label
 * `controller-revision-hash: <name>-<10-character hash>`, and label values hold at most 63.
 */
export const MAX_NAME_LENGTH = 52;

/** The CRD's CEL messages for `metadata.name`, character for character. */
export const NAME_MESSAGES = {
  nameDns1035: "metadata.name must be a DNS-1035 label: a lowercase letter first, then " +
    "lowercase letters, digits or '-', ending in a letter or digit, as the Service name it " +
    "becomes must be",
  nameLength: "metadata.name must be at most 52 characters: the StatefulSet's pods carry the " +
    "label controller-revision-hash=<name>-<10-character hash>, and label values are at most " +
    "63 characters",
} as const;

/**
 * Checks a Database's name against the CRD's rules.
 *
 * @param name The Database's `metadata.name`.
 * @returns The CRD's message for the first rule broken, or undefined for a usable name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.equal(checkDatabaseName("valid-db"), undefined);
 * assert.match(checkDatabaseName("1st-db")!, /DNS-1035/);
 * assert.match(checkDatabaseName("d".repeat(53))!, /at most 52/);
 * ```
 */
export function checkDatabaseName(name: string): string | undefined {
  if (!new RegExp(NAME_PATTERN).test(name)) return NAME_MESSAGES.nameDns1035;
  if (name.length > MAX_NAME_LENGTH) return NAME_MESSAGES.nameLength;
  return undefined;
}
