import assert from "node:assert/strict";
import { ControlPlane, eventually } from "../../../tools/testenv/mod.ts";
import {
  ApiError,
  CORE,
  type KubeClient,
  type KubeObject,
  objectPath,
} from "../../../src/runtime/client/mod.ts";
import { type Database, DATABASE_RESOURCE } from "../../../src/database/api/types.ts";
import type { StatefulSet } from "../../../src/database/instances/statefulset.ts";
import type { Pod } from "../../../src/database/instances/pod_health.ts";
import type { Secret } from "../../../src/database/credentials/secret.ts";
import { createDatabase, VALID_SPEC } from "../../_support/databases.ts";
import { startInProcess } from "../in_process_operator.ts";
import { createNamespace } from "../../_support/cluster.ts";

Deno.test("Database reconciler in a cluster with real controllers", async (t) => {
  await using plane = await ControlPlane.start({ mode: "cluster" });
  const client = plane.client;
  const ns = await createNamespace(client, "reconciler");
  let operator = await startInProcess(plane);
  try {
    await t.step(
      "valid-db gets its Secret, Service and StatefulSet and becomes Ready",
      async () => {
        await createDatabase(client, ns, "valid-db", VALID_SPEC);
        const wait = await plane.kubectl([
          "wait",
          "--for=condition=Ready",
          `database/valid-db`,
          "-n",
          ns,
          "--timeout=60s",
        ]);
        assert.equal(wait.code, 0, wait.stderr);
        const db = await get<Database>(client, DATABASE_RESOURCE, ns, "valid-db");
        assert.equal(db.status?.phase, "Ready");
        assert.equal(db.status?.ready, true);
        assert.equal(db.status?.readyReplicas, 1);
        assert.equal(db.status?.endpoint, `valid-db.${ns}.svc:5432`);
        assert.equal(db.status?.secretName, "valid-db-credentials");
        assert.equal(db.status?.observedGeneration, db.metadata.generation);
        const secret = await get<Secret>(client, CORE.secrets, ns, "valid-db-credentials");
        const service = await get<KubeObject & { spec: { ports: { port: number }[] } }>(
          client,
          CORE.services,
          ns,
          "valid-db",
        );
        const sts = await get<StatefulSet>(client, CORE.statefulSets, ns, "valid-db");
        for (const owned of [secret, service, sts]) {
          const owner = owned.metadata.ownerReferences?.[0];
          assert.equal(owner?.uid, db.metadata.uid);
          assert.equal(owner?.controller, true);
          assert.equal(owned.metadata.labels?.app, "database");
          assert.equal(owned.metadata.labels?.database, "valid-db");
        }
        assert.equal(atob(secret.data!.username!), "admin");
        assert.equal(atob(secret.data!.database!), "mydb");
        assert.ok(atob(secret.data!.password!).length >= 24);
        assert.equal(service.spec.ports[0]?.port, 5432);
        const container = containerOf(sts);
        assert.equal(container.image, "postgres:17");
        assert.deepEqual(
          container.env.find((e) => e.name === "POSTGRES_PASSWORD")?.valueFrom,
          { secretKeyRef: { name: "valid-db-credentials", key: "password" } },
        );
        assert.equal(sts.spec?.volumeClaimTemplates?.[0]?.spec.resources.requests.storage, "10Gi");
      },
    );

    await t.step(
      "a new Database costs at most five requests: one Created Event, one status write, no reads but after a refused create",
      async () => {
        await settle(operator);
        const from = operator.log.length;
        await createDatabase(client, ns, "counted", VALID_SPEC);
        await waitReplicasReady(client, ns, "counted", 1);
        await settle(operator);
        // Nothing else is in flight (settled above), so every write in the window is its cost.
        const sent = operator.log.slice(from);
        const cost = sent.filter((r) => !r.startsWith("GET "));
        // A read only where the cache had not yet seen an object this operator had just created
        // (a later reconcile raced its watch event): the create was refused, then the object
        // read. Never on a reconcile whose cache is current.
        const reads = sent.filter((r) => /^GET .*\/counted(-credentials|-pods)?$/.test(r));
        for (const read of reads) {
          const path = read.replace(/^GET /, "");
          const creates = [`PATCH ${path}`, `POST ${path.slice(0, path.lastIndexOf("/"))}`];
          const attempt = sent.findIndex((r) => creates.includes(r));
          assert.ok(
            attempt >= 0 && attempt < sent.indexOf(read),
            `${read} without a refused create`,
          );
        }
        assert.equal(cost.filter((r) => r.startsWith("POST events")).length, 1, cost.join("\n"));
        assert.equal(cost.filter((r) => r.endsWith("/status")).length, 1, cost.join("\n"));
        assert.ok(cost.length - reads.length <= 5, sent.join("\n"));
      },
    );

    await t.step("a converged Database re-reconciled sends zero writes", async () => {
      await settle(operator);
      const writes = operator.writes();
      const reconciles = await operator.reconciles();
      operator.controller.queue.add(`${ns}/valid-db`);
      await eventually(async () => (await operator.reconciles()) > reconciles, "re-reconciled");
      assert.equal(operator.writes(), writes, JSON.stringify([...operator.requests]));
    });

    await t.step(
      "zero writes when converged: integer and respelt quantities, empty maps, lists others extend",
      async () => {
        await createDatabase(client, ns, "extended", {
          ...VALID_SPEC,
          resources: { limits: { cpu: 2, memory: "1024Mi" }, requests: {} },
        });
        await waitReplicasReady(client, ns, "extended", 1);
        await settle(operator);
        const before = [...operator.objectWrites];
        const reconciles = await operator.reconciles();
        // Another owner, a sidecar and an env var, as other tools and webhooks add them.
        const other = await client.request<KubeObject>(
          "POST",
          `/api/v1/namespaces/${ns}/configmaps`,
          {
            body: { metadata: { name: "another-owner" } },
          },
        );
        const extraOwner = {
          apiVersion: "v1",
          kind: "ConfigMap",
          name: "another-owner",
          uid: other.metadata.uid,
        };
        for (const kind of ["sts", "svc"]) {
          const db = await get<KubeObject>(
            client,
            CORE[kind === "sts" ? "statefulSets" : "services"],
            ns,
            "extended",
          );
          const patched = await plane.kubectl([
            "patch",
            kind,
            "extended",
            "-n",
            ns,
            "--type=merge",
            "-p",
            JSON.stringify({
              metadata: { ownerReferences: [...db.metadata.ownerReferences!, extraOwner] },
            }),
          ]);
          assert.equal(patched.code, 0, patched.stderr);
        }
        const injected = await plane.kubectl([
          "patch",
          "sts",
          "extended",
          "-n",
          ns,
          "--type=strategic",
          "-p",
          JSON.stringify({
            spec: {
              template: {
                spec: {
                  containers: [
                    { name: "postgres", env: [{ name: "INJECTED", value: "yes" }] },
                    { name: "sidecar", image: "busybox:1.36" },
                  ],
                },
              },
            },
          }),
        ]);
        assert.equal(injected.code, 0, injected.stderr);
        await eventually(async () => (await operator.reconciles()) > reconciles, "reconciled");
        await eventually(async () => {
          const sts = await get<StatefulSet>(client, CORE.statefulSets, ns, "extended");
          return sts.status?.observedGeneration === sts.metadata.generation &&
            sts.status?.updatedReplicas === 1 && sts.status.readyReplicas === 1;
        }, "the sidecar rolled out");
        await waitReplicasReady(client, ns, "extended", 1);
        await settle(operator);
        assert.deepEqual(operator.objectWrites, before);
        const sts = await get<StatefulSet>(client, CORE.statefulSets, ns, "extended");
        const template = sts.spec?.template as { spec: { containers: Container[] } };
        assert.deepEqual(template.spec.containers.map((c) => c.name), ["postgres", "sidecar"]);
        assert.ok(containerOf(sts).env.some((e) => e.name === "INJECTED"));
        assert.equal(sts.metadata.ownerReferences?.length, 2);
      },
    );

    await t.step("a limit removed from the spec is removed from the StatefulSet", async () => {
      await patchSpec(client, ns, "extended", { resources: { limits: { memory: null } } });
      await eventually(async () => {
        const sts = await get<StatefulSet>(client, CORE.statefulSets, ns, "extended");
        const limits = (containerOf(sts) as { resources?: { limits?: Record<string, unknown> } })
          .resources?.limits;
        return limits?.cpu === "2" && limits.memory === undefined;
      }, "memory limit gone, cpu limit kept");
      const sts = await get<StatefulSet>(client, CORE.statefulSets, ns, "extended");
      // What others added survives our apply.
      assert.ok(containerOf(sts).env.some((e) => e.name === "INJECTED"));
      assert.equal(sts.metadata.ownerReferences?.length, 2);
      // Both owners go, so garbage collection removes what they shared.
      await client.request("DELETE", objectPath(DATABASE_RESOURCE, ns, "extended"));
      await client.request("DELETE", `/api/v1/namespaces/${ns}/configmaps/another-owner`);
    });

    await t.step("the password survives an operator restart and a spec edit", async () => {
      const before = await password(client, ns);
      await operator.stop();
      operator = await startInProcess(plane);
      await patchSpec(client, ns, "valid-db", { replicas: 2 });
      await waitReplicasUp(client, ns, "valid-db", 2);
      assert.equal(await password(client, ns), before);
    });

    await t.step("scales 2 → 3 → 1 and rolls a new image", async () => {
      const primary = await get<Pod>(client, CORE.pods, ns, "valid-db-0");
      await patchSpec(client, ns, "valid-db", { replicas: 3 });
      await waitReplicasUp(client, ns, "valid-db", 3);
      // KWOK's pods run no PostgreSQL, so no standby can take over: the primary's pod waits
      // for a switchover (real_failover_test.ts) rather than being restarted under its clients.
      const still = await get<Pod>(client, CORE.pods, ns, "valid-db-0");
      assert.equal(still.metadata.uid, primary.metadata.uid);
      await patchSpec(client, ns, "valid-db", { replicas: 1, image: "postgres:17.6" });
      await waitReplicasReady(client, ns, "valid-db", 1);
      const sts = await get<StatefulSet>(client, CORE.statefulSets, ns, "valid-db");
      assert.equal(sts.spec?.replicas, 1);
      assert.equal(containerOf(sts).image, "postgres:17.6");
    });

    await t.step("a hand edit of the StatefulSet's replicas is reverted", async () => {
      const scaled = await plane.kubectl(["scale", "sts/valid-db", "-n", ns, "--replicas=4"]);
      assert.equal(scaled.code, 0, scaled.stderr);
      await eventually(async () => {
        const sts = await get<StatefulSet>(client, CORE.statefulSets, ns, "valid-db");
        return sts.spec?.replicas === 1 && sts.metadata.generation! > 0;
      }, "replicas back to 1");
      await waitReplicasReady(client, ns, "valid-db", 1);
    });

    await t.step("a deleted Service is recreated", async () => {
      const old = await get<KubeObject>(client, CORE.services, ns, "valid-db");
      await client.request("DELETE", objectPath(CORE.services, ns, "valid-db"));
      await eventually(async () => {
        const svc = await tryGet<KubeObject>(client, CORE.services, ns, "valid-db");
        return svc !== undefined && svc.metadata.uid !== old.metadata.uid;
      }, "Service recreated");
    });

    await t.step(
      "deleting the Database garbage-collects what it owned and leaves no finalizer",
      async () => {
        const db = await get<Database>(client, DATABASE_RESOURCE, ns, "valid-db");
        assert.deepEqual(db.metadata.finalizers ?? [], []);
        await client.request("DELETE", objectPath(DATABASE_RESOURCE, ns, "valid-db"));
        await eventually(
          async () => {
            const left = await Promise.all([
              tryGet(client, DATABASE_RESOURCE, ns, "valid-db"),
              tryGet(client, CORE.secrets, ns, "valid-db-credentials"),
              tryGet(client, CORE.services, ns, "valid-db"),
              tryGet(client, CORE.statefulSets, ns, "valid-db"),
            ]);
            return left.every((o) => o === undefined);
          },
          "Database and owned objects gone",
          { timeoutMs: 60_000 },
        );
      },
    );

    await t.step("a namespace with a Database is deleted without hanging", async () => {
      const doomed = await createNamespace(client, "doomed");
      await createDatabase(client, doomed, "short-lived", VALID_SPEC);
      await eventually(
        async () => (await tryGet(client, CORE.statefulSets, doomed, "short-lived")) !== undefined,
        "StatefulSet created",
      );
      await client.request("DELETE", `/api/v1/namespaces/${doomed}`);
      await eventually(
        async () => (await tryGet(client, CORE.namespaces, undefined, doomed)) === undefined,
        "namespace gone",
        { timeoutMs: 90_000 },
      );
    });
  } finally {
    await operator.stop();
  }
});

async function patchSpec(
  client: KubeClient,
  ns: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  await client.request("PATCH", objectPath(DATABASE_RESOURCE, ns, name), {
    body: { spec },
    contentType: "application/merge-patch+json",
  });
}

async function get<T>(
  client: KubeClient,
  type: typeof DATABASE_RESOURCE | typeof CORE[keyof typeof CORE],
  ns: string | undefined,
  name: string,
): Promise<T> {
  return await client.request<T>("GET", objectPath(type, ns, name));
}

async function tryGet<T = KubeObject>(
  client: KubeClient,
  type: typeof DATABASE_RESOURCE | typeof CORE[keyof typeof CORE],
  ns: string | undefined,
  name: string,
): Promise<T | undefined> {
  try {
    return await get<T>(client, type, ns, name);
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return undefined;
    throw error;
  }
}

async function password(client: KubeClient, ns: string): Promise<string> {
  const secret = await get<Secret>(client, CORE.secrets, ns, "valid-db-credentials");
  return atob(secret.data!.password!);
}

async function waitReplicasReady(client: KubeClient, ns: string, name: string, n: number) {
  await eventually(
    async () => {
      const db = await get<Database>(client, DATABASE_RESOURCE, ns, name);
      return db.status?.phase === "Ready" && db.status.readyReplicas === n &&
        db.status.observedGeneration === db.metadata.generation;
    },
    `${name} Ready with ${n} replicas`,
    { timeoutMs: 60_000 },
  );
}

/** Waits for `n` ready pods in the status of the current generation (not for phase Ready). */
async function waitReplicasUp(client: KubeClient, ns: string, name: string, n: number) {
  await eventually(
    async () => {
      const db = await get<Database>(client, DATABASE_RESOURCE, ns, name);
      return db.status?.readyReplicas === n &&
        db.status.observedGeneration === db.metadata.generation;
    },
    `${name} with ${n} ready replicas`,
    { timeoutMs: 60_000 },
  );
}

/** Waits until the operator has been idle for a moment (queue empty, nothing in flight). */
async function settle(operator: Awaited<ReturnType<typeof startInProcess>>): Promise<void> {
  let last = -1;
  await eventually(
    async () => {
      const now = await operator.reconciles();
      const idle = now === last && operator.controller.queue.len() === 0;
      last = now;
      return idle;
    },
    "operator idle",
    { intervalMs: 500 },
  );
}

interface Container {
  name: string;
  image: string;
  env: { name: string; valueFrom?: unknown }[];
}

function containerOf(sts: StatefulSet): Container {
  const template = sts.spec?.template as { spec: { containers: Container[] } };
  return template.spec.containers[0]!;
}
