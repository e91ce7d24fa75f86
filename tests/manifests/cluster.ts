/**
 * The admin-side steps of `manifests_test.ts`: objects the test makes and reads with the control
 * plane's admin client, so that only the operator runs as the ServiceAccount under test.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  ApiError,
  collectionPath,
  CORE,
  type KubeClient,
  type KubeObject,
  objectPath,
  type ResourceType,
} from "../../src/runtime/client/mod.ts";
import { type Database, DATABASE_RESOURCE } from "../../src/database/api/types.ts";
import type { Lease } from "../../src/runtime/leader_election/mod.ts";
import { type ControlPlane, eventually } from "../../tools/testenv/mod.ts";

/** Any object as YAML or the API returns it; its shape depends on its kind. */
// deno-lint-ignore no-explicit-any
export type Obj = KubeObject & { kind: string } & Record<string, any>;

const STORAGE_CLASSES: ResourceType = {
  group: "storage.k8s.io",
  version: "v1",
  kind: "StorageClass",
  plural: "storageclasses",
  namespaced: false,
};
const CLUSTER_ROLES: ResourceType = {
  group: "rbac.authorization.k8s.io",
  version: "v1",
  kind: "ClusterRole",
  plural: "clusterroles",
  namespaced: false,
};
const MERGE = { contentType: "application/merge-patch+json" };

/** Admin operations on the test's control plane. */
export class Cluster {
  constructor(readonly client: KubeClient) {}

  async #get<T>(type: ResourceType, ns: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.client.request<T>("GET", objectPath(type, ns, name));
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return undefined;
      throw error;
    }
  }

  #create(type: ResourceType, ns: string | undefined, body: unknown): Promise<unknown> {
    return this.client.request("POST", collectionPath(type, ns), { body });
  }

  createNamespace(name: string): Promise<unknown> {
    return this.#create(CORE.namespaces, undefined, { metadata: { name } });
  }

  unlabelSecret(ns: string, name: string, label: string): Promise<unknown> {
    return this.client.request("PATCH", objectPath(CORE.secrets, ns, name), {
      body: { metadata: { labels: { [label]: null } } },
      ...MERGE,
    });
  }

  async secret(ns: string, name: string): Promise<Obj> {
    const secret = await this.#get<Obj>(CORE.secrets, ns, name);
    assert.ok(secret, `Secret ${ns}/${name}`);
    return secret;
  }

  /** The course's valid-db spec, with other storage if given. */
  createDatabase(
    ns: string,
    name: string,
    metadata: Record<string, unknown> = {},
    storage: Record<string, string> = { size: "10Gi" },
  ): Promise<unknown> {
    return this.#create(DATABASE_RESOURCE, ns, {
      apiVersion: "database.example.com/v1",
      kind: "Database",
      metadata: { name, ...metadata },
      spec: { image: "postgres:17", replicas: 1, databaseName: "mydb", username: "admin", storage },
    });
  }

  database(ns: string, name: string): Promise<Database | undefined> {
    return this.#get<Database>(DATABASE_RESOURCE, ns, name);
  }

  deleteDatabase(ns: string, name: string): Promise<unknown> {
    return this.client.request("DELETE", objectPath(DATABASE_RESOURCE, ns, name));
  }

  setStorageSize(ns: string, name: string, size: string): Promise<unknown> {
    return this.client.request("PATCH", objectPath(DATABASE_RESOURCE, ns, name), {
      body: { spec: { storage: { size } } },
      ...MERGE,
    });
  }

  /**
   * Waits until the Database's Secret, Service and StatefulSet exist and its status is current:
   * written for its generation, or still the CRD's default (Pending), which the operator keeps
   * until it has news (Ready, a problem, a ready replica). Apiserver mode, without a StatefulSet
   * controller, never has any.
   */
  async converged(ns: string, name: string): Promise<void> {
    let last: unknown;
    await eventually(
      async () => {
        const db = await this.database(ns, name);
        const owned = await Promise.all([
          this.#get(CORE.secrets, ns, `${name}-credentials`),
          this.#get(CORE.services, ns, name),
          this.#get(CORE.statefulSets, ns, name),
        ]);
        last = { status: db?.status, owned: owned.map(Boolean) };
        const status = db?.status;
        const reported = status?.secretName === `${name}-credentials` &&
          status.observedGeneration === db?.metadata.generation;
        const nothingYet = status?.phase === "Pending" && status.observedGeneration === undefined;
        return owned.every(Boolean) && (reported || nothingYet);
      },
      `${name} converges`,
      { describe: () => last },
    );
  }

  async events(ns: string): Promise<Obj[]> {
    return (await this.client.request<{ items: Obj[] }>("GET", collectionPath(CORE.events, ns)))
      .items;
  }

  lease(ns: string, name: string): Promise<Lease | undefined> {
    return this.#get<Lease>(CORE.leases, ns, name);
  }

  createStorageClass(name: string): Promise<unknown> {
    return this.#create(STORAGE_CLASSES, undefined, {
      metadata: { name },
      provisioner: "example.com/test",
      allowVolumeExpansion: true,
    });
  }

  /** A PVC as the StatefulSet controller would make it, marked Bound (only those may grow). */
  async createBoundClaim(
    ns: string,
    name: string,
    database: string,
    storageClass: string,
    size: string,
  ): Promise<void> {
    await this.#create(CORE.persistentVolumeClaims, ns, {
      metadata: { name, labels: { app: "database", database } },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: storageClass,
        resources: { requests: { storage: size } },
      },
    });
    await this.client.request(
      "PATCH",
      objectPath(CORE.persistentVolumeClaims, ns, name, "status"),
      { body: { status: { phase: "Bound" } }, ...MERGE },
    );
  }

  async claimSize(ns: string, name: string): Promise<string | undefined> {
    const claim = await this.#get<Obj>(CORE.persistentVolumeClaims, ns, name);
    return claim?.spec.resources.requests.storage;
  }

  /** Takes `verb` on `resource` out of a ClusterRole. */
  async revokeVerb(role: string, resource: string, verb: string): Promise<void> {
    const current = await this.#get<Obj>(CLUSTER_ROLES, undefined, role);
    assert.ok(current, role);
    for (const rule of current.rules as { resources?: string[]; verbs: string[] }[]) {
      if (rule.resources?.includes(resource)) rule.verbs = rule.verbs.filter((v) => v !== verb);
    }
    await this.client.request("PUT", objectPath(CLUSTER_ROLES, undefined, role), {
      body: current,
    });
  }

  /** A token of a new ServiceAccount bound to the deployed metrics-reader ClusterRole. */
  async metricsReaderToken(plane: ControlPlane, ns: string, name: string): Promise<string> {
    for (
      const args of [
        ["create", "serviceaccount", name, "-n", ns],
        [
          "create",
          "clusterrolebinding",
          `${ns}-${name}`,
          "--clusterrole=postgres-operator-metrics-reader",
          `--serviceaccount=${ns}:${name}`,
        ],
      ]
    ) {
      const out = await plane.kubectl(args);
      assert.equal(out.code, 0, out.stderr);
    }
    const token = await plane.kubectl(["create", "token", name, "-n", ns]);
    assert.equal(token.code, 0, token.stderr);
    return token.stdout.trim();
  }
}
