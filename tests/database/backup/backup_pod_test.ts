/** What spec.backup and spec.restore add to the StatefulSet's pods. */
import assert from "node:assert/strict";
import type { Database, DatabaseSpec } from "../../../src/database/api/mod.ts";
import {
  archiveTimeoutSetting,
  recoveryWindow,
  storeLocation,
} from "../../../src/database/backup/mod.ts";
import { desiredStatefulSet } from "../../../src/database/instances/mod.ts";

const STORE = { endpoint: "https://s3.example.com", bucket: "backups", secret: "s3" };

function podOf(spec: Partial<DatabaseSpec>) {
  const db: Database = {
    metadata: { name: "orders", namespace: "shop", uid: "u" },
    spec: {
      image: "postgres-operator/postgresql:17",
      replicas: 1,
      databaseName: "app",
      username: "app",
      storage: { size: "1Gi" },
      ...spec,
    },
  };
  const sts = desiredStatefulSet(db, db.spec) as unknown as {
    spec: { template: { spec: Pod } };
  };
  return sts.spec.template.spec;
}
interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env: { name: string; value?: string }[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Pod {
  initContainers: Container[];
  containers: Container[];
  volumes: { name: string; secret?: { secretName: string } }[];
}

Deno.test("spec.backup: the server archives with barman.sh, reading the Secret as files", () => {
  const pod = podOf({ backup: { objectStore: STORE, archiveTimeout: "5m" } });
  const [postgres] = pod.containers;
  assert.deepEqual(postgres!.args, [
    "postgres",
    "-c",
    "archive_mode=on",
    "-c",
    'archive_command=bash -c "$BARMAN_SCRIPT" barman archive %p',
    "-c",
    "archive_timeout=5min",
  ]);
  const env = Object.fromEntries(postgres!.env.map((e) => [e.name, e.value]));
  assert.equal(env.BACKUP_ENDPOINT, STORE.endpoint);
  assert.equal(env.BACKUP_DESTINATION, "s3://backups/shop");
  assert.equal(env.BACKUP_DIR, "/etc/backup-store");
  assert.match(env.BARMAN_SCRIPT!, /barman-cloud-wal-archive/);
  assert.deepEqual(postgres!.volumeMounts.at(-1), {
    name: "backup-store",
    mountPath: "/etc/backup-store",
    readOnly: true,
  });
  assert.equal(pod.volumes.find((v) => v.name === "backup-store")?.secret?.secretName, "s3");
});

Deno.test("with standbys the instance manager gets the settings as its arguments", () => {
  const pod = podOf({ replicas: 3, backup: { objectStore: STORE } });
  const [postgres] = pod.containers;
  assert.equal(postgres!.command?.[0], "bash");
  assert.equal(postgres!.command?.at(-1), "instance-manager");
  assert.deepEqual(postgres!.args?.slice(0, 2), ["-c", "archive_mode=on"]);
  assert.ok(postgres!.args?.includes("archive_timeout=60s"));
});

Deno.test("spec.restore: an init container restores before sync-credentials", () => {
  const pod = podOf({
    restore: { objectStore: { ...STORE, path: "prod/orders" }, targetTime: "2026-12-05T16:00:00Z" },
  });
  assert.deepEqual(pod.initContainers.map((c) => c.name), ["restore", "sync-credentials"]);
  const env = Object.fromEntries(pod.initContainers[0]!.env.map((e) => [e.name, e.value]));
  assert.equal(env.RESTORE_DESTINATION, "s3://backups/prod");
  assert.equal(env.RESTORE_SERVER, "orders");
  assert.equal(env.RESTORE_TARGET_TIME, "2026-12-05T16:00:00Z");
  assert.equal(env.RESTORE_INSTANCE, "orders-0");
  assert.equal(
    pod.containers[0]!.args,
    undefined,
    "a restored Database archives only with spec.backup",
  );
});

Deno.test("without backups the pods are as before", () => {
  const pod = podOf({});
  assert.deepEqual(pod.initContainers.map((c) => c.name), ["sync-credentials"]);
  assert.equal(pod.containers[0]!.args, undefined);
  assert.ok(!pod.containers[0]!.env.some((e) => e.name === "BARMAN_SCRIPT"));
});

Deno.test("units: archive timeout, retention window, store location", () => {
  assert.equal(archiveTimeoutSetting(), "60s");
  assert.equal(archiveTimeoutSetting("2h"), "2h");
  assert.equal(archiveTimeoutSetting("5m"), "5min");
  assert.equal(recoveryWindow("30d"), "30 DAYS");
  assert.equal(recoveryWindow("4w"), "4 WEEKS");
  assert.equal(recoveryWindow("6m"), "6 MONTHS");
  const db = { metadata: { name: "orders", namespace: "shop" } } as Database;
  assert.deepEqual(storeLocation(db, { ...STORE, path: "orders" }), {
    destination: "s3://backups",
    server: "orders",
  });
  assert.deepEqual(storeLocation(db, { ...STORE, path: "a/b/c" }), {
    destination: "s3://backups/a/b",
    server: "c",
  });
});

Deno.test("spec.affinity: required anti-affinity over a zone, or none", () => {
  const required = podOf({
    replicas: 3,
    affinity: { podAntiAffinityType: "required", topologyKey: "topology.kubernetes.io/zone" },
  }) as unknown as { affinity: { podAntiAffinity: Record<string, { topologyKey: string }[]> } };
  assert.deepEqual(Object.keys(required.affinity.podAntiAffinity), [
    "requiredDuringSchedulingIgnoredDuringExecution",
  ]);
  assert.equal(
    required.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution![0]!
      .topologyKey,
    "topology.kubernetes.io/zone",
  );
  const none = podOf({ replicas: 3, affinity: { enablePodAntiAffinity: false } }) as unknown as {
    affinity?: unknown;
  };
  assert.equal(none.affinity, undefined);
  const preferred = podOf({ replicas: 2 }) as unknown as {
    affinity: { podAntiAffinity: Record<string, unknown> };
  };
  assert.deepEqual(Object.keys(preferred.affinity.podAntiAffinity), [
    "preferredDuringSchedulingIgnoredDuringExecution",
  ]);
});
