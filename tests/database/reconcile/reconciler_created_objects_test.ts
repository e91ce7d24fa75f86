/**
 * A reconcile that runs after a create and before the watch event shows the created object
 * sends nothing again. The owned objects' informers are never started here, so their caches stay
 * empty for as long as the test needs: without the reconciler's record of what it created, the
 * second reconcile would POST the Secret, Service and StatefulSet again, be refused (409) and
 * read each back.
 */
import { HA_OBJECT_TYPES } from "../../../src/database/ha/mod.ts";
import assert from "node:assert/strict";
import { ControlPlane, eventually } from "../../../tools/testenv/mod.ts";
import { Informer } from "../../../src/runtime/cache/mod.ts";
import { CORE, KubeClient } from "../../../src/runtime/client/mod.ts";
import type { EventRecorder } from "../../../src/runtime/controller/mod.ts";
import { Logger } from "../../../src/runtime/observability/mod.ts";
import { DatabaseReconciler } from "../../../src/database/reconcile/reconciler.ts";
import { projectDatabase } from "../../../src/database/api/database_projection.ts";
import { projectSecret } from "../../../src/database/credentials/secret_projection.ts";
import { projectService } from "../../../src/database/services/service_projection.ts";
import { projectStatefulSet } from "../../../src/database/instances/statefulset_projection.ts";
import {
  DATABASE_POD_INDEX,
  databaseOfPod,
  projectPod,
} from "../../../src/database/instances/pod_health.ts";
import { type Database, DATABASE_RESOURCE } from "../../../src/database/api/types.ts";
import { createDatabase } from "../../_support/databases.ts";
import { createNamespace } from "../../_support/cluster.ts";

/** A client that notes every request as `METHOD path`. */
class RecordingClient extends KubeClient {
  readonly sent: string[] = [];

  override request<T>(
    method: string,
    path: string,
    init?: Parameters<KubeClient["request"]>[2],
  ): Promise<T> {
    this.sent.push(`${method} ${path}`);
    return super.request<T>(method, path, init);
  }
}

Deno.test("a reconcile before the cache shows what the last one created sends nothing", async () => {
  await using plane = await ControlPlane.start();
  const client = new RecordingClient(plane.connection, { qps: 0 });
  const stop = new AbortController();
  const databases = new Informer<Database>(client, DATABASE_RESOURCE, {
    transform: projectDatabase,
  });
  const running = databases.run(stop.signal);
  try {
    const ns = await createNamespace(client, "created");
    await createDatabase(client, ns, "db");
    await eventually(() => databases.store.get(`${ns}/db`) !== undefined, "the Database cached");
    // Never started: these caches do not show the objects the reconciler creates.
    const pods = new Informer(client, CORE.pods, { transform: projectPod });
    pods.indexField(DATABASE_POD_INDEX, databaseOfPod);
    const reconciler = new DatabaseReconciler({
      client,
      databases,
      secrets: new Informer(client, CORE.secrets, { transform: projectSecret }),
      services: new Informer(client, CORE.services, { transform: projectService }),
      statefulSets: new Informer(client, CORE.statefulSets, { transform: projectStatefulSet }),
      pods,
      haObjects: {
        serviceAccounts: new Informer(client, HA_OBJECT_TYPES.serviceAccounts),
        roles: new Informer(client, HA_OBJECT_TYPES.roles),
        roleBindings: new Informer(client, HA_OBJECT_TYPES.roleBindings),
        budgets: new Informer(client, HA_OBJECT_TYPES.budgets),
      },
      events: { record: () => {} } as unknown as EventRecorder,
      logger: new Logger({ format: "json", level: "warn", write: () => {} }),
    });
    const request = { namespace: ns, name: "db", key: `${ns}/db` };

    client.sent.length = 0;
    await reconciler.reconcile(request);
    assert.deepEqual(client.sent.toSorted(), [
      `POST /api/v1/namespaces/${ns}/secrets`,
      `POST /api/v1/namespaces/${ns}/services`,
      `POST /apis/apps/v1/namespaces/${ns}/statefulsets`,
    ]);

    client.sent.length = 0;
    await reconciler.reconcile(request);
    assert.deepEqual(client.sent, [], "nothing created again, nothing read back");
  } finally {
    stop.abort();
    await running;
    client.close();
  }
});
