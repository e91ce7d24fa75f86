/** Server certificates on virtual time: who signs them, what they cover, when they renew. */
import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import { createCertificate } from "../../../src/runtime/serving/mod.ts";
import {
  caFingerprint,
  type CertificateAuthority,
  certificateCurrent,
  issueServerCertificate,
  serverNames,
} from "../../../src/database/tls/mod.ts";

const db = { metadata: { name: "orders", namespace: "shop", uid: "u" }, spec: {} } as never;
const DAY = 86_400_000;

async function authority(): Promise<CertificateAuthority> {
  const issuer = await createCertificate({ commonName: "test CA", isCA: true, validDays: 3650 });
  return { issuer, certPem: issuer.certPem, fingerprint: caFingerprint(issuer.certPem) };
}

Deno.test("issueServerCertificate() signs with the CA, for every Service and pod name, ECDSA P-256", async () => {
  const ca = await authority();
  const now = new Date("2026-12-01T00:00:00Z");
  const made = await issueServerCertificate(db, { ca, now: () => now, clusterDomain: "k8s.test" });
  const cert = new x509.X509Certificate(made.certPem);
  assert.equal(
    await cert.verify({ publicKey: ca.issuer.cert.publicKey, signatureOnly: true }),
    true,
  );
  assert.equal(cert.issuer, ca.issuer.cert.subject);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
  const names = san.names.items.map((n) => n.value);
  assert.deepEqual(names, serverNames(db, "k8s.test"));
  for (const name of ["orders", "orders.shop.svc", "orders-ro.shop", "*.orders-pods.shop.svc"]) {
    assert.ok(names.includes(name), name);
  }
  assert.ok(names.includes("orders.shop.svc.k8s.test"));
  assert.equal((cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve, "P-256");
  assert.equal(cert.notAfter.getTime() - now.getTime(), 90 * DAY);
  assert.match(made.keyPem, /^-----BEGIN PRIVATE KEY-----/);
});

Deno.test("certificateCurrent() renews at two thirds of the life, on new names and on a new CA", async () => {
  const ca = await authority();
  const issued = new Date("2026-12-01T00:00:00Z").getTime();
  const made = await issueServerCertificate(db, { ca, now: () => new Date(issued) });
  const at = (ms: number) => ({ ca, now: () => new Date(ms) });
  assert.equal(certificateCurrent(made.annotation, db, at(issued + 59 * DAY)), true);
  assert.equal(
    certificateCurrent(made.annotation, db, at(issued + 61 * DAY)),
    false,
    "2/3 of 90 d",
  );
  const renamed = { metadata: { name: "orders2", namespace: "shop" }, spec: {} } as never;
  assert.equal(certificateCurrent(made.annotation, renamed, at(issued)), false, "other names");
  const other = await authority();
  assert.equal(
    certificateCurrent(made.annotation, db, { ca: other, now: () => new Date(issued) }),
    false,
  );
  assert.equal(certificateCurrent(undefined, db, at(issued)), false);
  assert.equal(certificateCurrent("garbage", db, at(issued)), false);
});
