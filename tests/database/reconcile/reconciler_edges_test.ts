import assert from "node:assert/strict";
import { ControlPlane, eventually } from "../../../tools/testenv/mod.ts";
import {
  collectionPath,
  CORE,
  type KubeClient,
  type KubeObject,
  objectPath,
} from "../../../src/runtime/client/mod.ts";
import type { StatefulSet } from "../../../src/database/instances/statefulset.ts";
import { type Database, DATABASE_RESOURCE } from "../../../src/database/api/types.ts";
import { createDatabase } from "../../_support/databases.ts";
import { startInProcess } from "../in_process_operator.ts";
import { createNamespace, parallel } from "../../_support/cluster.ts";

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

  await t.step(
    "a name admitted by an older CRD that pods could not carry becomes Failed",
    async () => {
      const removed = await plane.kubectl([
        "patch",
        "crd",
        CRD,
        "--type=json",
        "-p",
        JSON.stringify([{
          op: "remove",
          path: "/spec/versions/0/schema/openAPIV3Schema/x-kubernetes-validations",
        }]),
      ]);
      assert.equal(removed.code, 0, removed.stderr);
      const name = `db-${"x".repeat(55)}`;
      try {
        await eventually(async () => {
          try {
            await createDatabase(client, ns, name, spec());
            return true;
          } catch {
            return false; // The CRD change is still propagating.
          }
        }, "the looser CRD accepts a 58-character name");
      } finally {
        await plane.installCRDs();
      }
      await waitPhase(client, ns, name, "Failed");
      const ready = (await getDatabase(client, ns, name)).status?.conditions?.find((c) =>
        c.type === "Ready"
      );
      assert.equal(ready?.reason, "InvalidSpec");
      assert.match(ready?.message ?? "", /metadata\.name must be at most 52 characters/);
      assert.equal(await exists(plane, "sts", ns, name), false);
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

  await t.step("a scale-up after growth makes the new PVCs at the grown size", async () => {
    await client.request("PATCH", objectPath(DATABASE_RESOURCE, ns, "growing"), {
      body: { spec: { replicas: 2 } },
      contentType: "application/merge-patch+json",
    });
    // KWOK's pods run no PostgreSQL: the standby comes up, but no switchover can move the
    // primary off the single-instance pod (real_replication_test.ts does), so not Ready.
    await eventually(async () => {
      const db = await getDatabase(client, ns, "growing");
      return db.status?.readyReplicas === 2;
    }, "growing has 2 ready replicas");
    assert.equal(await claimSize(client, ns, "data-growing-1"), "20Gi");
    // The template keeps the size it was created with; only the claims know better.
    const sts = await getStatefulSet(client, ns, "growing");
    assert.equal(sts.spec?.volumeClaimTemplates?.[0]?.spec.resources.requests.storage, "1Gi");
    await client.request("PATCH", objectPath(DATABASE_RESOURCE, ns, "growing"), {
      body: { spec: { replicas: 1 } },
      contentType: "application/merge-patch+json",
    });
    await eventually(async () => {
      const db = await getDatabase(client, ns, "growing");
      return db.status?.phase === "Ready" && db.status.readyReplicas === 1;
    }, "growing Ready with 1 replica again");
    assert.equal(await claimSize(client, ns, "data-growing-1"), "20Gi", "a scale-down keeps data");
  });

  await t.step(
    "a StatefulSet that left the cache is read, not rebuilt from the grown spec",
    async () => {
      // Without our label the informer drops it: the reconciler must read it from the API, or
      // it would apply a 20Gi template over the immutable 1Gi one and be refused.
      const unlabeled = await plane.kubectl([
        "label",
        "sts",
        "growing",
        "-n",
        ns,
        "app.kubernetes.io/managed-by-",
      ]);
      assert.equal(unlabeled.code, 0, unlabeled.stderr);
      await eventually(async () => {
        const sts = await getStatefulSet(client, ns, "growing");
        return sts.metadata.labels?.["app.kubernetes.io/managed-by"] === "postgres-operator";
      }, "the label is back");
      const db = await getDatabase(client, ns, "growing");
      assert.equal(db.status?.phase, "Ready", JSON.stringify(db.status?.conditions));
    },
  );

  await t.step("a size annotation edited into a non-quantity is set right again", async () => {
    const edited = await plane.kubectl([
      "annotate",
      "sts",
      "growing",
      "-n",
      ns,
      "--overwrite",
      "database.example.com/storage-size=lots",
    ]);
    assert.equal(edited.code, 0, edited.stderr);
    await eventually(async () => {
      const sts = await getStatefulSet(client, ns, "growing");
      return sts.metadata.annotations?.["database.example.com/storage-size"] === "20Gi";
    }, "annotation back to 20Gi");
    const db = await getDatabase(client, ns, "growing");
    assert.equal(db.status?.phase, "Ready", JSON.stringify(db.status?.conditions));
    assert.equal(db.status?.conditions?.find((c) => c.type === "Degraded")?.status, "False");
  });

  await t.step("a Degraded resize heals once its StorageClass allows expansion", async () => {
    await client.request("PATCH", "/apis/storage.k8s.io/v1/storageclasses/standard", {
      body: { allowVolumeExpansion: true },
      contentType: "application/merge-patch+json",
    });
    // Nothing the operator caches changes: only its retry of a Degraded Database sees this.
    await eventually(
      async () => (await claimSize(client, ns, "data-fixed-0")) === "20Gi",
      "the PVC of fixed asks for 20Gi",
    );
    await eventually(async () => {
      const db = await getDatabase(client, ns, "fixed");
      return db.status?.conditions?.find((c) => c.type === "Degraded")?.status === "False";
    }, "fixed no longer Degraded");
  });

  await t.step(
    "a Secret another tool made is never adopted: Degraded ResourceExists, untouched, healed once it goes",
    async () => {
      const theirs = await client.request<KubeObject & { data: Record<string, string> }>(
        "POST",
        `/api/v1/namespaces/${ns}/secrets`,
        { body: { metadata: { name: "taken-credentials" }, data: { password: btoa("theirs") } } },
      );
      await createDatabase(client, ns, "taken", spec());
      await waitDegraded(client, ns, "taken", "ResourceExists", /Secret taken-credentials/);
      const after = await client.request<KubeObject & { data: Record<string, string> }>(
        "GET",
        objectPath(CORE.secrets, ns, "taken-credentials"),
      );
      assert.equal(after.metadata.resourceVersion, theirs.metadata.resourceVersion);
      assert.deepEqual(after.data, theirs.data);
      assert.equal(await exists(plane, "sts", ns, "taken"), false, "no pods on their Secret");
      await client.request("DELETE", objectPath(CORE.secrets, ns, "taken-credentials"));
      await waitPhase(client, ns, "taken", "Ready");
      const ours = await client.request<KubeObject>(
        "GET",
        objectPath(CORE.secrets, ns, "taken-credentials"),
      );
      const db = await getDatabase(client, ns, "taken");
      assert.equal(ours.metadata.ownerReferences?.[0]?.uid, db.metadata.uid);
    },
  );

  await t.step("a Service another owner controls is left untouched", async () => {
    const owner = await client.request<KubeObject>("POST", `/api/v1/namespaces/${ns}/configmaps`, {
      body: { metadata: { name: "service-owner" } },
    });
    const theirs = await client.request<KubeObject>("POST", `/api/v1/namespaces/${ns}/services`, {
      body: {
        metadata: {
          name: "occupied",
          ownerReferences: [{
            apiVersion: "v1",
            kind: "ConfigMap",
            name: "service-owner",
            uid: owner.metadata.uid,
            controller: true,
          }],
        },
        spec: { ports: [{ port: 80 }], selector: { app: "web" } },
      },
    });
    await createDatabase(client, ns, "occupied", spec());
    await waitDegraded(client, ns, "occupied", "ResourceExists", /Service occupied/);
    const after = await client.request<KubeObject>(
      "GET",
      objectPath(CORE.services, ns, "occupied"),
    );
    assert.equal(after.metadata.resourceVersion, theirs.metadata.resourceVersion);
    assert.equal(after.metadata.ownerReferences?.[0]?.uid, owner.metadata.uid);
    // Its endpoint is someone else's Service: not Ready, however ready its pods are.
    await eventually(
      async () => (await getDatabase(client, ns, "occupied")).status?.readyReplicas === 1,
      "occupied's pod ready",
    );
    const db = await getDatabase(client, ns, "occupied");
    assert.equal(db.status?.ready, false);
    assert.equal(db.status?.conditions?.find((c) => c.type === "Ready")?.status, "False");
  });

  await t.step("a StatefulSet someone else made is neither adopted nor rebuilt", async () => {
    const theirs = await client.request<KubeObject>(
      "POST",
      `/apis/apps/v1/namespaces/${ns}/statefulsets`,
      {
        body: {
          metadata: { name: "handmade" },
          spec: {
            replicas: 0,
            serviceName: "handmade",
            selector: { matchLabels: { app: "handmade" } },
            template: {
              metadata: { labels: { app: "handmade" } },
              spec: { containers: [{ name: "main", image: "postgres:17" }] },
            },
          },
        },
      },
    );
    await createDatabase(client, ns, "handmade", spec());
    await waitDegraded(client, ns, "handmade", "ResourceExists", /StatefulSet handmade/);
    // Its controller may write its status; its spec and owners stay as they were.
    const after = await getStatefulSet(client, ns, "handmade");
    assert.equal(after.metadata.generation, theirs.metadata.generation);
    assert.equal(after.metadata.ownerReferences, undefined);
    assert.deepEqual(after.metadata.labels ?? {}, {});
    // Creating it was tried (refused as the name is taken); nothing else.
    const writes = operator.objectWrites.filter((w) =>
      w.includes("/statefulsets/handmade") || w.endsWith("/statefulsets (create handmade)")
    );
    assert.ok(writes.length > 0 && writes.every((w) => w.startsWith("POST ")), `${writes}`);
  });

  await t.step("the course's finalizer is removed without waiting for a deletion", async () => {
    await client.request("POST", collectionPath(DATABASE_RESOURCE, ns), {
      body: {
        apiVersion: "database.example.com/v1",
        kind: "Database",
        metadata: { name: "legacy", finalizers: ["database.example.com/finalizer"] },
        spec: spec(),
      },
    });
    await eventually(
      async () =>
        ((await getDatabase(client, ns, "legacy")).metadata.finalizers ?? []).length === 0,
      "finalizer gone",
    );
    const db = await getDatabase(client, ns, "legacy");
    assert.equal(db.metadata.deletionTimestamp, undefined);
  });

  await t.step(
    "an object the API server refuses makes the Database Failed with its message, not retried",
    async () => {
      // The CRD accepts hugepages without cpu or memory; pod validation does not.
      const terminal = async () =>
        (await operator.metrics.terminalReconcileErrors.get()).values.reduce(
          (n, v) => n + v.value,
          0,
        );
      const before = await terminal();
      await createDatabase(client, ns, "huge", {
        ...spec(),
        resources: { limits: { "hugepages-2Mi": "4Mi" } },
      });
      await waitPhase(client, ns, "huge", "Failed");
      const ready = (await getDatabase(client, ns, "huge")).status?.conditions?.find((c) =>
        c.type === "Ready"
      );
      assert.equal(ready?.reason, "Rejected");
      assert.match(ready?.message ?? "", /HugePages require cpu or memory/);
      assert.ok((await terminal()) > before, "a terminal error was counted");
      assert.equal(operator.controller.queue.numRequeues(`${ns}/huge`), 0, "no backoff retry");
    },
  );

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

async function claimSize(client: KubeClient, ns: string, name: string): Promise<string> {
  const pvc = await client.request<{ spec: { resources: { requests: { storage: string } } } }>(
    "GET",
    objectPath(CORE.persistentVolumeClaims, ns, name),
  );
  return pvc.spec.resources.requests.storage;
}

async function getStatefulSet(client: KubeClient, ns: string, name: string) {
  return await client.request<StatefulSet>("GET", objectPath(CORE.statefulSets, ns, name));
}

async function exists(plane: ControlPlane, kind: string, ns: string, name: string) {
  return (await plane.kubectl(["get", kind, name, "-n", ns])).code === 0;
}

async function waitDegraded(
  client: KubeClient,
  ns: string,
  name: string,
  reason: string,
  message: RegExp,
) {
  await eventually(async () => {
    const db = await getDatabase(client, ns, name);
    const degraded = db.status?.conditions?.find((c) => c.type === "Degraded");
    return degraded?.status === "True" && degraded.reason === reason &&
      message.test(degraded.message);
  }, `${name} Degraded ${reason}`);
}

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
