import assert from "node:assert/strict";
import { desiredStatefulSet } from "../../../src/database/instances/mod.ts";
import { PG_HBA_DIGEST, TLS_ANNOTATION } from "../../../src/database/tls/mod.ts";
import { VALID_SPEC } from "../../_support/databases.ts";

const db = { metadata: { name: "db", namespace: "ns", uid: "u" }, spec: VALID_SPEC } as never;
// deno-lint-ignore no-explicit-any
type Obj = Record<string, any>;

function pod(replicas: number, tls?: string) {
  const sts = desiredStatefulSet(db, { ...VALID_SPEC, replicas } as never, undefined, "v", tls);
  return sts.spec!.template as Obj;
}

Deno.test("With TLS the server gets the Secret's certificate, key (0640) and pg_hba.conf, and a renewal rolls the pods", () => {
  for (const replicas of [1, 3]) {
    const template = pod(replicas, "names/0/1/ca");
    const postgres = template.spec.containers[0];
    const args = postgres.args.join(" ");
    assert.match(args, /-c ssl=on -c ssl_cert_file=\/etc\/postgres-tls\/tls\.crt/);
    assert.match(args, /-c hba_file=\/etc\/postgres-tls\/pg_hba\.conf/);
    // One instance runs the image's entry point with `postgres`; standbys the instance manager.
    assert.equal(postgres.args[0] === "postgres", replicas === 1);
    const volume = template.spec.volumes.find((v: Obj) => v.name === "tls");
    assert.equal(volume.secret.secretName, "db-credentials");
    assert.equal(volume.secret.defaultMode, 0o640);
    assert.deepEqual(volume.secret.items.map((i: Obj) => i.key), [
      "tls.crt",
      "tls.key",
      "ca.crt",
      "pg_hba.conf",
    ]);
    assert.ok(postgres.volumeMounts.some((m: Obj) => m.name === "tls" && m.readOnly));
    assert.equal(template.metadata.annotations[TLS_ANNOTATION], "names/0/1/ca");
    assert.equal(template.metadata.annotations["database.example.com/pg-hba"], PG_HBA_DIGEST);
  }
  const renewed = pod(1, "names/5/9/ca").metadata.annotations[TLS_ANNOTATION];
  assert.notEqual(renewed, pod(1, "names/0/1/ca").metadata.annotations[TLS_ANNOTATION]);
  const plain = pod(1);
  assert.equal(plain.spec.volumes.some((v: Obj) => v.name === "tls"), false);
  assert.equal(TLS_ANNOTATION in plain.metadata.annotations, false);
});
