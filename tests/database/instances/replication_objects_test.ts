/**
 * What replication adds to a Database's objects, and what it does not, on the KWOK cluster (no
 * pod has to run): replicas 1 gets no replication objects (no headless or read-only Service, no
 * replication password); an earlier version's StatefulSet, governed by the read-write Service, is
 * recreated governed by the headless one, its volumes kept.
 */
import assert from "node:assert/strict";
import type { Secret } from "../../../src/database/credentials/secret.ts";
import {
  desiredStatefulSet,
  type StatefulSet,
} from "../../../src/database/instances/statefulset.ts";
import { type Database, DATABASE_RESOURCE } from "../../../src/database/api/types.ts";
import { CORE, type KubeClient, objectPath } from "../../../src/runtime/client/mod.ts";
import { ControlPlane, eventually } from "../../../tools/testenv/mod.ts";
import { createNamespace } from "../../_support/cluster.ts";
import { createDatabase, VALID_SPEC } from "../../_support/databases.ts";
import { startInProcess } from "../in_process_operator.ts";

Deno.test("replication objects exist only with standbys; an old StatefulSet is recreated", async (t) => {
  await using plane = await ControlPlane.start({ mode: "cluster" });
  const client = plane.client;
  const ns = await createNamespace(client, "replication");
  const get = <T>(path: string) => client.request<T>("GET", path);
  const services = async () =>
    (await plane.kubectl(["get", "services", "-n", ns, "-l", "database=solo", "-o", "name"]))
      .stdout.trim().split("\n").sort();

  await t.step("an earlier version's StatefulSet exists before the operator starts", async () => {
    await createDatabase(client, ns, "solo", VALID_SPEC);
    const db = await get<Database>(objectPath(DATABASE_RESOURCE, ns, "solo"));
    const old = desiredStatefulSet(db, { ...VALID_SPEC, environment: undefined } as never);
    old.spec!.serviceName = "solo"; // What versions before standbys used.
    await client.request("POST", `/apis/apps/v1/namespaces/${ns}/statefulsets`, { body: old });
  });

  await using operator = await startInProcess(plane);
  void operator;

  await t.step(
    "it is recreated, governed by solo-pods, and the Database becomes Ready",
    async () => {
      await eventually(
        async () => {
          const sts = await get<StatefulSet>(objectPath(CORE.statefulSets, ns, "solo"))
            .catch(() => undefined);
          return sts?.spec?.serviceName === "solo-pods";
        },
        "the StatefulSet has its governing Service",
        { timeoutMs: 60_000 },
      );
      await waitReady(client, ns, "solo");
    },
  );

  await t.step(
    "replicas 1: no headless or read-only Service, no replication password or settings",
    async () => {
      assert.deepEqual(await services(), ["service/solo"]);
      const secret = await get<Secret>(objectPath(CORE.secrets, ns, "solo-credentials"));
      assert.equal(secret.data?.["replication-password"], undefined);
      const sts = await get<StatefulSet>(objectPath(CORE.statefulSets, ns, "solo"));
      const template = sts.spec?.template as {
        spec: {
          initContainers: { env: { name: string }[] }[];
          containers: { env: { name: string }[] }[];
        };
      };
      const env = [...template.spec.initContainers, ...template.spec.containers]
        .flatMap((c) => c.env.map((e) => e.name));
      assert.ok(env.includes("POSTGRES_PASSWORD"));
      assert.ok(!env.includes("REPLICATION_PASSWORD") && !env.includes("PRIMARY_HOST"), `${env}`);
    },
  );

  await t.step("replicas 3 adds solo-pods, solo-ro and a replication password", async () => {
    await client.request("PATCH", objectPath(DATABASE_RESOURCE, ns, "solo"), {
      body: { spec: { replicas: 3 } },
      contentType: "application/merge-patch+json",
    });
    // The Services and the Secret are written side by side: wait for both.
    await eventually(
      async () =>
        JSON.stringify(await services()) ===
          JSON.stringify(["service/solo", "service/solo-pods", "service/solo-ro"]) &&
        Boolean(
          (await get<Secret>(objectPath(CORE.secrets, ns, "solo-credentials"))).data?.[
            "replication-password"
          ],
        ),
      "solo-pods, solo-ro and the replication password exist",
    );
  });

  await t.step("back to replicas 1 removes solo-pods and solo-ro, keeps the password", async () => {
    await client.request("PATCH", objectPath(DATABASE_RESOURCE, ns, "solo"), {
      body: { spec: { replicas: 1 } },
      contentType: "application/merge-patch+json",
    });
    await eventually(
      async () => JSON.stringify(await services()) === JSON.stringify(["service/solo"]),
      "only solo left",
    );
    const secret = await get<Secret>(objectPath(CORE.secrets, ns, "solo-credentials"));
    assert.ok(secret.data?.["replication-password"]);
  });
});

async function waitReady(client: KubeClient, ns: string, name: string): Promise<void> {
  await eventually(
    async () => {
      const db = await client.request<Database>("GET", objectPath(DATABASE_RESOURCE, ns, name));
      return db.status?.ready === true;
    },
    `${name} Ready`,
    { timeoutMs: 60_000 },
  );
}
