/** The Backup reconcile on fakes: which instance, which Job, and what becomes of its outcome. */
import assert from "node:assert/strict";
import type { ReadonlyStore } from "../../../src/runtime/cache/mod.ts";
import type { KubeObject, RequestInit } from "../../../src/runtime/client/mod.ts";
import type { Backup, Database } from "../../../src/database/api/mod.ts";
import {
  type BackupDeps,
  type BackupInstance,
  backupReconciler,
  type Job,
} from "../../../src/database/backup/mod.ts";

const STORE = { endpoint: "https://s3", bucket: "backups", secret: "s3" };

function store<T extends KubeObject>(...objects: T[]): ReadonlyStore<T> {
  const byKey = new Map(objects.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
  return {
    get: (key: string) => byKey.get(key),
    list: () => [...byKey.values()],
  } as unknown as ReadonlyStore<T>;
}

function setup(options: {
  backup?: Partial<Backup>;
  db?: Partial<Database["spec"]> | null;
  instances?: BackupInstance[];
  job?: Job;
  result?: string;
}) {
  const backup: Backup = {
    metadata: { name: "nightly", namespace: "shop", uid: "u1" },
    spec: { database: "orders" },
    ...options.backup,
  };
  const db: Database = {
    metadata: { name: "orders", namespace: "shop", uid: "u2" },
    spec: {
      image: "postgres-operator/postgresql:17",
      replicas: 2,
      databaseName: "app",
      username: "app",
      storage: { size: "1Gi" },
      backup: { objectStore: STORE },
      ...options.db,
    },
  };
  const requests: { method: string; path: string; init?: RequestInit }[] = [];
  const events: string[] = [];
  const deps: BackupDeps = {
    client: {
      request: (method: string, path: string, init?: RequestInit) => {
        requests.push({ method, path, init });
        return Promise.resolve(init?.body as never);
      },
    },
    backups: store(backup),
    databases: options.db === null ? store() : store(db),
    jobs: options.job ? store(options.job) : store(),
    instances: () => options.instances ?? [],
    jobResult: () => options.result,
    events: { record: (_o, type, reason, _a, note) => events.push(`${type} ${reason}: ${note}`) },
    now: () => new Date("2026-12-07T03:00:00Z"),
  };
  return { reconcile: backupReconciler(deps), requests, events };
}

const request = { key: "shop/nightly", name: "nightly", namespace: "shop" } as never;
const primary = { pod: "orders-0", node: "n1", ip: "10.0.0.1", ready: true, primary: true };
const standby = { pod: "orders-1", node: "n2", ip: "10.0.0.2", ready: true, primary: false };

Deno.test("a new Backup gets a Job on the ready standby's node, reading its volume", async () => {
  const { reconcile, requests, events } = setup({ instances: [primary, standby] });
  assert.deepEqual(await reconcile(request), {});
  const [create, status] = requests;
  assert.equal(create?.method, "POST");
  assert.equal(create?.path, "/apis/batch/v1/namespaces/shop/jobs");
  const job = create?.init?.body as Job & { spec: { template: { spec: Record<string, never> } } };
  assert.equal(job.metadata.name, "backup-nightly");
  const pod = job.spec.template.spec as unknown as {
    nodeName: string;
    volumes: { persistentVolumeClaim?: { claimName: string; readOnly: boolean } }[];
    containers: { env: { name: string; value?: string }[] }[];
  };
  assert.equal(pod.nodeName, "n2");
  assert.deepEqual(pod.volumes[0]?.persistentVolumeClaim, {
    claimName: "data-orders-1",
    readOnly: true,
  });
  const env = Object.fromEntries(pod.containers[0]!.env.map((e) => [e.name, e.value]));
  assert.equal(env.PGHOST, "10.0.0.2");
  assert.equal(env.BACKUP_DESTINATION, "s3://backups/shop");
  assert.equal(env.BACKUP_SERVER, "orders");
  assert.ok(!JSON.stringify(job).includes('secretAccessKey":'), "no credentials in the Job");
  assert.equal(
    status?.path,
    "/apis/database.example.com/v1/namespaces/shop/backups/nightly/status",
  );
  assert.deepEqual((status?.init?.body as { status: object }).status, {
    phase: "Running",
    instance: "orders-1",
    startedAt: "2026-12-07T03:00:00.000Z",
    error: null,
  });
  assert.deepEqual(events, ["Normal Started: Base backup of orders from orders-1"]);
});

Deno.test("without a ready standby the backup is taken beside the primary", async () => {
  const { reconcile, requests } = setup({ instances: [primary, { ...standby, ready: false }] });
  await reconcile(request);
  const job = requests[0]?.init?.body as { spec: { template: { spec: { nodeName: string } } } };
  assert.equal(job.spec.template.spec.nodeName, "n1");
});

Deno.test("a Backup waits, Pending with a reason, for a Database with spec.backup and a ready instance", async () => {
  for (
    const [db, instances, reason] of [
      [null, [primary], "Database orders does not exist"],
      [{ backup: undefined }, [primary], "Database orders has no spec.backup.objectStore"],
      [{}, [{ ...primary, ready: false }], "Database orders has no ready instance"],
    ] as const
  ) {
    const { reconcile, requests, events } = setup({ db: db as never, instances: [...instances] });
    assert.deepEqual(await reconcile(request), { requeueAfterMs: 10_000 });
    assert.equal(requests.length, 1);
    assert.deepEqual((requests[0]?.init?.body as { status: object }).status, {
      phase: "Pending",
      error: reason,
    });
    assert.deepEqual(events, [`Warning Waiting: ${reason}`]);
  }
});

Deno.test("a finished Job's record becomes the Completed status; a failed one, Failed with its message", async () => {
  const job = { metadata: { name: "backup-nightly", namespace: "shop" } };
  const record = {
    id: "20261207T030000",
    name: "nightly",
    begin: 1796612400,
    end: 1796612410,
    beginWal: "000000010000000000000003",
    endWal: "000000010000000000000004",
    size: 4096,
  };
  const done = setup({
    backup: { status: { phase: "Running" } },
    job: { ...job, status: { succeeded: 1 } },
    result: JSON.stringify(record),
  });
  await done.reconcile(request);
  assert.deepEqual((done.requests[0]?.init?.body as { status: object }).status, {
    phase: "Completed",
    backupId: record.id,
    startedAt: "2026-12-07T03:00:00.000Z",
    stoppedAt: "2026-12-07T03:00:10.000Z",
    beginWal: record.beginWal,
    endWal: record.endWal,
    size: 4096,
  });
  assert.equal(
    `${done.requests[1]?.method} ${done.requests[1]?.path}`,
    "DELETE /apis/batch/v1/namespaces/shop/jobs/backup-nightly",
    "the finished Job goes, so its pod no longer holds the volume claim",
  );
  const failed = setup({
    backup: { status: { phase: "Running" } },
    job: { ...job, status: { failed: 1 } },
    result: "barman-cloud-backup failed\n",
  });
  await failed.reconcile(request);
  assert.equal(
    (failed.requests[0]?.init?.body as { status: { phase: string } }).status.phase,
    "Failed",
  );
  assert.deepEqual(failed.events, ["Warning Failed: barman-cloud-backup failed"]);
  const running = setup({ backup: { status: { phase: "Running" } }, job });
  assert.deepEqual(await running.reconcile(request), {});
  assert.equal(running.requests.length, 0);
  const unseen = setup({ job: { ...job, status: { succeeded: 1 } } });
  assert.deepEqual(await unseen.reconcile(request), { requeueAfterMs: 1_000 });
});

Deno.test("a Completed or Failed Backup is left alone", async () => {
  for (const phase of ["Completed", "Failed"] as const) {
    const { reconcile, requests } = setup({ backup: { status: { phase } }, instances: [primary] });
    assert.deepEqual(await reconcile(request), {});
    assert.equal(requests.length, 0);
  }
});
