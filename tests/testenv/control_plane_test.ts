import assert from "node:assert/strict";
import { ApiError, KubeClient, type KubeObject } from "../../src/runtime/client/mod.ts";
import { alive, ControlPlane, eventually, pinnedVersions } from "../../tools/testenv/mod.ts";

interface Condition {
  type: string;
  status: string;
}

interface Pod extends KubeObject {
  status?: { phase?: string; conditions?: Condition[] };
}

interface Claim extends KubeObject {
  spec: { storageClassName?: string; volumeName?: string };
  status?: { phase?: string };
}

interface Node extends KubeObject {
  status: { conditions: Condition[] };
}

interface Volume extends KubeObject {
  spec: { hostPath?: { path: string } };
}

/** The command name of a process as `ps` shows it (at most 15 characters), or its id. */
async function comm(pid: number): Promise<string> {
  try {
    return (await Deno.readTextFile(`/proc/${pid}/comm`)).trim();
  } catch {
    return `pid ${pid}, already exited`;
  }
}

/** Ids of processes whose command line mentions `text`, as `pgrep -f` sees them. */
async function pgrep(text: string): Promise<string> {
  const out = await new Deno.Command("pgrep", { args: ["-f", text], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Namespace of the cluster-mode test's objects. */
const NS = "apps";

async function mustKubectl(plane: ControlPlane, args: string[]): Promise<string> {
  const out = await plane.kubectl(args);
  assert.equal(out.code, 0, `kubectl ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

Deno.test("ControlPlane in apiserver mode serves the pinned version with RBAC and TokenRequest, and stop() leaves nothing", async (t) => {
  const plane = await ControlPlane.start({ mode: "apiserver", installCRDs: false });
  const pids = plane.pids;
  try {
    await t.step(
      "kubectl version reports the pinned Kubernetes release for client and server",
      async () => {
        const version = JSON.parse(await mustKubectl(plane, ["version", "-o", "json"]));
        assert.equal(version.serverVersion.gitVersion, pinnedVersions().kubernetes);
        assert.equal(version.clientVersion.gitVersion, pinnedVersions().kubernetes);
      },
    );

    await t.step(
      "a token from kubectl create token authenticates as its ServiceAccount, which RBAC keeps from Secrets",
      async () => {
        await mustKubectl(plane, ["create", "namespace", "tokens"]);
        await mustKubectl(plane, ["create", "serviceaccount", "robot", "-n", "tokens"]);
        const token = (await mustKubectl(plane, ["create", "token", "robot", "-n", "tokens"]))
          .trim();
        assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, "a JWT");
        const robot = new KubeClient(
          { ...plane.connection, certPem: undefined, keyPem: undefined, token },
          { qps: 0 },
        );
        try {
          const review = await robot.request<{ status: { userInfo: { username: string } } }>(
            "POST",
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            { body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" } },
          );
          assert.equal(review.status.userInfo.username, "system:serviceaccount:tokens:robot");
          await assert.rejects(
            () => robot.request("GET", "/api/v1/namespaces/tokens/secrets"),
            (error) => error instanceof ApiError && error.code === 403,
          );
        } finally {
          robot.close();
        }
        // The admin can, so the 403 is RBAC judging the ServiceAccount, not a broken endpoint.
        await plane.client.request("GET", "/api/v1/namespaces/tokens/secrets");
      },
    );

    await t.step(
      "stop() ends etcd and kube-apiserver and removes the temporary folder",
      async () => {
        assert.equal(pids.length, 2, "etcd and kube-apiserver");
        for (const pid of pids) assert.ok(alive(pid), `${pid} runs before stop()`);
        await plane.stop();
        for (const pid of pids) assert.ok(!alive(pid), `${pid} still runs after stop()`);
        assert.equal(await pgrep(plane.dir), "", "no process mentions the control plane's folder");
        assert.ok(!(await exists(plane.dir)), `${plane.dir} is removed`);
      },
    );
  } finally {
    await plane.stop();
  }
});

Deno.test("ControlPlane in cluster mode runs a StatefulSet on a provisioned volume and garbage-collects it", async (t) => {
  const plane = await ControlPlane.start({ mode: "cluster", installCRDs: false });
  const client = plane.client;
  const components = await Promise.all(
    plane.pids.map(async (pid) => ({ pid, name: await comm(pid) })),
  );
  /** The cluster's state, so a failure says what was stuck and whether a component died. */
  const diagnose = async () => {
    const dead = [];
    for (const { pid, name } of components) if (!alive(pid)) dead.push(name);
    const state = await plane.kubectl(["get", "nodes,sts,pods,pvc,pv,events", "-A", "-o", "wide"]);
    return `dead components: [${dead.join(", ")}]\n${state.stdout}${state.stderr}`;
  };
  const gone = async (path: string) => {
    try {
      await client.request("GET", path);
      return false;
    } catch (error) {
      if (error instanceof ApiError && error.code === 404) return true;
      throw error;
    }
  };
  const claimPath = `/api/v1/namespaces/${NS}/persistentvolumeclaims/data-web-0`;
  let volume: Volume | undefined;
  try {
    await t.step("every fake Node is Ready and standard is the default StorageClass", async () => {
      const nodes = await client.request<{ items: Node[] }>("GET", "/api/v1/nodes");
      assert.ok(nodes.items.length >= 1);
      for (const node of nodes.items) {
        const ready = node.status.conditions.find((c) => c.type === "Ready");
        assert.equal(ready?.status, "True", node.metadata.name);
      }
      const classes = await mustKubectl(plane, ["get", "storageclass"]);
      assert.match(classes, /^standard \(default\)\s+kubernetes\.io\/host-path\s/m);
    });

    await t.step(
      "a StatefulSet's Pod becomes Running and Ready on a Bound host-path volume",
      async () => {
        await mustKubectl(plane, ["create", "namespace", NS]);
        const owner = await client.request<KubeObject>(
          "POST",
          `/api/v1/namespaces/${NS}/configmaps`,
          {
            body: { metadata: { name: "owner" } },
          },
        );
        await client.request("POST", `/apis/apps/v1/namespaces/${NS}/statefulsets`, {
          body: statefulSet(owner),
        });
        const rollout = await plane.kubectl([
          "rollout",
          "status",
          "-n",
          NS,
          "sts/web",
          "--timeout=60s",
        ]);
        assert.equal(rollout.code, 0, `${rollout.stderr}\n${await diagnose()}`);
        const pod = await client.request<Pod>("GET", `/api/v1/namespaces/${NS}/pods/web-0`);
        assert.equal(pod.status?.phase, "Running");
        assert.equal(pod.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
        const claim = await client.request<Claim>("GET", claimPath);
        assert.equal(claim.status?.phase, "Bound");
        // The template names no class: the DefaultStorageClass admission plugin filled it in.
        assert.equal(claim.spec.storageClassName, "standard");
        volume = await client.request<Volume>(
          "GET",
          `/api/v1/persistentvolumes/${claim.spec.volumeName}`,
        );
        const provisioner = volume.metadata.annotations?.["pv.kubernetes.io/provisioned-by"];
        assert.equal(provisioner, "kubernetes.io/host-path");
        assert.ok(volume.spec.hostPath && await exists(volume.spec.hostPath.path), "a real folder");
      },
    );

    await t.step("deleting the owner garbage-collects the StatefulSet and its Pod", async () => {
      await client.request("DELETE", `/api/v1/namespaces/${NS}/configmaps/owner`);
      await eventually(
        async () =>
          await gone(`/apis/apps/v1/namespaces/${NS}/statefulsets/web`) &&
          await gone(`/api/v1/namespaces/${NS}/pods/web-0`),
        "the StatefulSet and its Pod are deleted",
        { timeoutMs: 60_000, intervalMs: 200 },
      ).catch(async (error) => {
        throw new Error(`${error.message}\n${await diagnose()}`);
      });
    });

    await t.step(
      "deleting the claim the StatefulSet kept deletes its volume and folder",
      async () => {
        assert.ok(volume?.spec.hostPath, "the previous step found the volume");
        // StatefulSets keep their claims by default, so the claim outlived the garbage collection.
        await client.request("DELETE", claimPath);
        await eventually(
          async () =>
            await gone(`/api/v1/persistentvolumes/${volume!.metadata.name}`) &&
            !(await exists(volume!.spec.hostPath!.path)),
          "the host-path volume and its folder are deleted",
          { timeoutMs: 60_000, intervalMs: 200 },
        ).catch(async (error) => {
          throw new Error(`${error.message}\n${await diagnose()}`);
        });
      },
    );

    await t.step("stop() ends all five processes and removes the temporary folder", async () => {
      const names = components.map((c) => c.name).sort();
      const expected = [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
      ];
      assert.deepEqual(names, expected.map((name) => name.slice(0, 15)));
      await plane.stop();
      for (const { pid, name } of components) assert.ok(!alive(pid), `${name} still runs`);
      assert.equal(await pgrep(plane.dir), "", "no process mentions the control plane's folder");
      assert.ok(!(await exists(plane.dir)), `${plane.dir} is removed`);
    });
  } finally {
    await plane.stop();
  }
});

/** A plain StatefulSet with one volume claim template, owned by `owner`. */
function statefulSet(owner: KubeObject): Record<string, unknown> {
  const labels = { app: "web" };
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: {
      name: "web",
      ownerReferences: [{
        apiVersion: "v1",
        kind: "ConfigMap",
        name: owner.metadata.name,
        uid: owner.metadata.uid,
      }],
    },
    spec: {
      serviceName: "web",
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{
            name: "web",
            image: "registry.k8s.io/pause:3.10",
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          }],
        },
      },
      volumeClaimTemplates: [{
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      }],
    },
  };
}
