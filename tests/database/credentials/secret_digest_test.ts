import assert from "node:assert/strict";
import { projectSecret } from "../../../src/database/credentials/secret_projection.ts";
import { credentialsVersion } from "../../../src/database/credentials/credentials_version.ts";
import { desiredSecret, type Secret } from "../../../src/database/credentials/secret.ts";
import { digestSecret, secretUpToDate } from "../../../src/database/credentials/secret_digest.ts";
import type { Database, DatabaseSpec } from "../../../src/database/api/types.ts";
import { caFingerprint, issueServerCertificate } from "../../../src/database/tls/mod.ts";
import { createCertificate } from "../../../src/runtime/serving/mod.ts";

const spec: DatabaseSpec = {
  image: "postgres:17",
  replicas: 1,
  databaseName: "app",
  username: "app",
  storage: { size: "1Gi" },
};
const db: Database = { metadata: { name: "d", namespace: "n", uid: "u-1" }, spec };
const served = (secret: Secret): Secret => ({
  ...secret,
  metadata: { ...secret.metadata, resourceVersion: "7", uid: "s-1" },
});

Deno.test("projectSecret() keeps a digest and metadata, and no password", () => {
  const cached = projectSecret(served(desiredSecret(db, spec, "pa:ss'word", "repl-pass")));
  assert.equal(JSON.stringify(cached).includes(btoa("pa:ss'word")), false);
  assert.equal(JSON.stringify(cached).includes("pa:ss"), false);
  assert.equal(JSON.stringify(cached).includes("repl-pass"), false);
  assert.equal("data" in cached, false);
  assert.equal(cached.digest?.credentials, credentialsVersion("app", "pa:ss'word"));
  assert.equal(cached.digest?.replication, true);
  assert.equal(cached.metadata.name, "d-credentials");
});

Deno.test("digestSecret() has no digest for a Secret the operator would rewrite", () => {
  const good = desiredSecret(db, spec, "p");
  const edit = (key: string, value: string | undefined): Secret => {
    const data = { ...good.data };
    if (value === undefined) delete data[key];
    else data[key] = value;
    return { ...good, data };
  };
  assert.notEqual(digestSecret(good), undefined);
  assert.equal(digestSecret(edit("password", "")), undefined, "empty password");
  assert.equal(digestSecret(edit("host", undefined)), undefined, "a field missing");
  assert.equal(digestSecret(edit("uri", btoa("postgresql://x"))), undefined);
  assert.equal(digestSecret(edit("uri", "%%%")), undefined, "not base64");
  assert.equal(digestSecret(edit("password", btoa("other"))), undefined, "uri of another password");
});

Deno.test("secretUpToDate() agrees with comparing the whole desired Secret", () => {
  const cached = (secret: Secret) => projectSecret(served(secret));
  const current = desiredSecret(db, spec, "p");
  assert.equal(secretUpToDate(cached(current), db, spec), true);
  assert.equal(secretUpToDate(cached(current), db, { ...spec, username: "other" }), false);
  assert.equal(secretUpToDate(cached(current), db, { ...spec, databaseName: "other" }), false);
  assert.equal(secretUpToDate(cached(current), db, { ...spec, replicas: 3 }), false, "standbys");
  const withReplication = desiredSecret(db, spec, "p", "r");
  assert.equal(secretUpToDate(cached(withReplication), db, { ...spec, replicas: 3 }), true);
  assert.equal(secretUpToDate(cached(withReplication), db, spec), true, "kept after scale-down");
  const relabelled = { ...current, metadata: { ...current.metadata, labels: { app: "x" } } };
  assert.equal(secretUpToDate(cached(relabelled), db, spec), false, "its labels changed");
  const moved = { ...db, metadata: { ...db.metadata, namespace: "m" } };
  assert.equal(secretUpToDate(cached(current), moved, spec), false, "host of another namespace");
  const { digest: _, ...undigested } = cached(current);
  assert.equal(secretUpToDate(undigested, db, spec), false);
});

Deno.test("With TLS: the uri asks for verify-full, the cache keeps no key, and a due certificate or a new CA is not up to date", async () => {
  const issuer = await createCertificate({ commonName: "ca", isCA: true });
  const ca = { issuer, certPem: issuer.certPem, fingerprint: caFingerprint(issuer.certPem) };
  const issued = Date.parse("2026-12-01T00:00:00Z");
  const settings = { ca, now: () => new Date(issued) };
  const made = await issueServerCertificate(db, settings);
  const secret = desiredSecret(db, spec, "p", undefined, { ...made, caPem: ca.certPem });
  assert.match(atob(secret.data!.uri!), /\?sslmode=verify-full$/);
  const cached = projectSecret(served(secret));
  assert.equal(JSON.stringify(cached).includes("PRIVATE"), false, "no key in the cache");
  assert.equal(cached.digest?.ca, ca.fingerprint);
  assert.equal(secretUpToDate(cached, db, spec, settings), true);
  assert.equal(
    secretUpToDate(cached, db, spec, {
      ...settings,
      now: () => new Date(issued + 61 * 86_400_000),
    }),
    false,
    "due",
  );
  const other = await createCertificate({ commonName: "other", isCA: true });
  const next = { issuer: other, certPem: other.certPem, fingerprint: caFingerprint(other.certPem) };
  assert.equal(secretUpToDate(cached, db, spec, { ...settings, ca: next }), false, "a new CA");
  // Without TLS the same Secret is what the operator wants, and a plain uri stays plain.
  assert.equal(secretUpToDate(cached, db, spec), true);
  assert.doesNotMatch(atob(desiredSecret(db, spec, "p").data!.uri!), /sslmode/);
});
