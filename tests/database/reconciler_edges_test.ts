import assert from "node:assert/strict";
import { ControlPlane, eventually } from "../../tools/testenv/mod.ts";
import type { KubeClient } from "../../src/runtime/kube_client.ts";
import { collectionPath, CORE, objectPath } from "../../src/runtime/resource.ts";
import { type Database, DATABASE_RESOURCE } from "../../src/database/types.ts";
import { createDatabase } from "./databases.ts";
import { startInProcess } from "./in_process_operator.ts";
import { createNamespace, parallel } from "../runtime/informer_helpers.ts";

const CRD = "databases.database.example.com";

Deno.test("Database reconciler edge cases in a cluster", async (t) => {
  await using plane = await ControlPlane.start({ mode: "cluster" });
  const client = plane.client;
  const ns = await createNamespace(client, "edges");
  await using operator = await startInProcess(plane);

  await t.step(
    "a spec that slips past admission becomes Failed once and is not retried",
    async () => {
      // Simulate an older, looser CRD: drop the image rule, so the server accepts nginx.
      const rules = await plane.kubectl([
        "get",
        "crd",
        CRD,
        "-o",
        "jsonpath={.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.image.x-kubernetes-validations}",
      ]);
      assert.match(rules.stdout, /postgres/);
      const patched = await plane.kubectl([
        "patch",
        "crd",
        CRD,
        "--type=json",
        "-p",
        JSON.stringify([{
          op: "remove",
          path:
            "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/image/x-kubernetes-validations",
        }]),
      ]);
      assert.equal(patched.code, 0, patched.stderr);
      try {
        await eventually(async () => {
          try {
            await createDatabase(client, ns, "web-server", { ...spec(), image: "nginx:1.27" });
            return true;
          } catch {
            return false; // The CRD change is still propagating.
          }
        }, "the looser CRD accepts nginx");
        const failed = async () => {
          const db = await getDatabase(client, ns, "web-server");
          return db.status?.phase === "Failed" ? db : undefined;
        };
        await eventually(async () => (await failed()) !== undefined, "Database Failed");
        const db = (await failed())!;
        const ready = db.status?.conditions?.find((c) => c.type === "Ready");
        assert.equal(ready?.status, "False");
        assert.equal(ready?.reason, "InvalidSpec");
        assert.match(ready?.message ?? "", /spec\.image/);
        const reconciles = await operator.reconciles();
        await new Promise((r) => setTimeout(r, 2_000));
        assert.equal(await operator.reconciles(), reconciles, "no retry loop");
        assert.equal(
          await plane.kubectl(["get", "sts", "web-server", "-n", ns]).then((r) => r.code),
          1,
        );
      } finally {
        await plane.installCRDs();
      }
    },
  );

  await t.step("growing storage resizes PVCs where the StorageClass allows it", async () => {
    await client.request("POST", "/apis/storage.k8s.io/v1/storageclasses", {
      body: {
        metadata: { name: "expandable" },
        provisioner: "kubernetes.io/host-path",
        allowVolumeExpansion: true,
        volumeBindingMode: "WaitForFirstConsumer",
      },
    });
    await createDatabase(client, ns, "growing", {
      ...spec(),
      storage: { size: "1Gi", storageClass: "expandable" },
    });
    await createDatabase(client, ns, "fixed", spec());
    await waitPhase(client, ns, "growing", "Ready");
    await waitPhase(client, ns, "fixed", "Ready");
    for (const name of ["growing", "fixed"]) {
      await client.request("PATCH", objectPath(DATABASE_RESOURCE, ns, name), {
        body: { spec: { storage: { size: "20Gi" } } },
        contentType: "application/merge-patch+json",
      });
    }
    await eventually(async () => {
      const pvc = await client.request<{ spec: { resources: { requests: { storage: string } } } }>(
        "GET",
        objectPath(CORE.persistentVolumeClaims, ns, "data-growing-0"),
      );
      return pvc.spec.resources.requests.storage === "20Gi";
    }, "PVC of growing asks for 20Gi");
    await eventually(async () => {
      const db = await getDatabase(client, ns, "fixed");
      const degraded = db.status?.conditions?.find((c) => c.type === "Degraded");
      return degraded?.status === "True" && degraded.reason === "StorageResizeUnsupported";
    }, "fixed reports that its volumes cannot grow");
    const growing = await getDatabase(client, ns, "growing");
    assert.equal(growing.status?.conditions?.find((c) => c.type === "Degraded")?.status, "False");
  });

  await t.step("the course's Exercise 5: 50 Databases all become Ready", async () => {
    const names = Array.from({ length: 50 }, (_, i) => `load-test-${i}`);
    await parallel(names, 10, (name) => createDatabase(client, ns, name, spec()));
    await eventually(
      async () => {
        const list = await client.request<{ items: Database[] }>(
          "GET",
          collectionPath(DATABASE_RESOURCE, ns),
          { query: { labelSelector: "" } },
        );
        return names.every((n) =>
          list.items.find((d) => d.metadata.name === n)?.status?.phase === "Ready"
        );
      },
      "all 50 Ready",
      { timeoutMs: 120_000 },
    );
    const table = await plane.kubectl([
      "get",
      "databases",
      "-n",
      ns,
      "-o",
      "custom-columns=NAME:.metadata.name,PHASE:.status.phase,READY:.status.ready",
      "--no-headers",
    ]);
    const rows = table.stdout.trim().split("\n").filter((l) => l.startsWith("load-test-"));
    assert.equal(rows.length, 50);
    for (const row of rows) assert.match(row, /^load-test-\d+\s+Ready\s+true$/);
  });
});

function spec() {
  return { databaseName: "app", username: "app", storage: { size: "10Gi" } };
}

async function getDatabase(client: KubeClient, ns: string, name: string): Promise<Database> {
  return await client.request<Database>("GET", objectPath(DATABASE_RESOURCE, ns, name));
}

async function waitPhase(client: KubeClient, ns: string, name: string, phase: string) {
  await eventually(
    async () => (await getDatabase(client, ns, name)).status?.phase === phase,
    `${name} ${phase}`,
    { timeoutMs: 60_000 },
  );
}
