import assert from "node:assert/strict";
import { checkDatabaseCrd } from "../../../src/database/mod.ts";
import { Logger } from "../../../src/runtime/observability/mod.ts";
import { ControlPlane } from "../../../tools/testenv/mod.ts";

Deno.test("checkDatabaseCrd() names the missing CRD and how to install it, once installed says nothing", async () => {
  await using plane = await ControlPlane.start({ installCRDs: false });
  const lines: string[] = [];
  const logger = new Logger({ format: "json", write: (line) => lines.push(line) });

  assert.equal(await checkDatabaseCrd(plane.client, logger), false);
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!);
  assert.equal(entry.level, "error");
  assert.equal(entry.crd, "databases.database.example.com");
  assert.match(
    entry.msg,
    /databases\.database\.example\.com and backups\.database\.example\.com are not installed/,
  );
  assert.match(entry.msg, /kubectl apply -k manifests\/crd/);

  await plane.installCRDs();
  assert.equal(await checkDatabaseCrd(plane.client, logger), true);
  assert.equal(lines.length, 1);
});
