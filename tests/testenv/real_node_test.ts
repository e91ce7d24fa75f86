/**
 * The real node itself: pods run, cluster DNS and Services work, nothing routes off the
 * machine, and stopping the cluster leaves the host exactly as it was.
 */
import assert from "node:assert/strict";
import {
  ControlPlane,
  eventually,
  NODE_NAME,
  NODE_NETWORK,
  resolveInCluster,
} from "../../tools/testenv/mod.ts";
import { hostState, processesMentioning, psql, realNodeTest } from "../_support/real_node.ts";

realNodeTest(
  "ControlPlane with a real node runs pods with DNS and Services, contained, and leaves nothing behind",
  async (t) => {
    const before = await hostState();
    // One KWOK node next to the real one: KWOK must manage only its own.
    const plane = await ControlPlane.start({ mode: "cluster", realNode: true, nodes: 1 });
    let dir = plane.dir;
    try {
      dir = plane.dir;
      await t.step(
        "the Node is real (containerd, its own address); KWOK's stays fake",
        async () => {
          type Node = {
            status: {
              nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string };
              addresses?: { address: string }[];
            };
          };
          const node = await plane.client.request<Node>("GET", `/api/v1/nodes/${NODE_NAME}`);
          assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
          assert.ok(node.status.addresses?.some((a) => a.address === NODE_NETWORK.nodeIp));
          const fake = await plane.client.request<Node>("GET", "/api/v1/nodes/kwok-node-0");
          assert.equal(fake.status.nodeInfo.kubeletVersion, "fake");
          assert.match(node.status.nodeInfo.kubeletVersion, /^v1\./);
          // The real node's Lease is taken by its kubelet, not by KWOK.
          let holder = "";
          await eventually(
            async () => {
              const lease = await plane.client.request<{ spec: { holderIdentity?: string } }>(
                "GET",
                `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE_NAME}`,
              ).catch(() => undefined);
              holder = lease?.spec.holderIdentity ?? "";
              return holder !== "";
            },
            "the real node has a Lease",
            { timeoutMs: 60_000 },
          );
          assert.equal(holder, NODE_NAME);
        },
      );

      await t.step("cluster DNS answers cluster names and nothing else", async () => {
        assert.deepEqual(await resolveInCluster("kubernetes.default.svc.cluster.local"), [
          "10.96.0.1",
        ]);
        await assert.rejects(resolveInCluster("deb.debian.org"));
      });

      await t.step("a pod reaches a Service by DNS name; nothing leaves the node", async () => {
        // A server pod and a Service in front of it; the client goes through DNS + kube-proxy.
        const server = await plane.kubectl(["apply", "-f", "-"], SERVER_MANIFESTS);
        assert.equal(server.code, 0, server.stderr);
        const ready = await plane.kubectl([
          "wait",
          "--for=condition=Ready",
          "pod/echo-db",
          "--timeout=120s",
        ]);
        assert.equal(ready.code, 0, ready.stderr);
        const uri = "postgresql://postgres:pw@echo-db.default.svc.cluster.local:5432/postgres";
        // kube-proxy programs a new Service within a second or so of its endpoint being ready;
        // until then the ClusterIP has no rule, and no route: the client retries.
        let answer = "";
        await eventually(
          async () => {
            answer = await psql(plane, "SELECT 40 + 2", { secret: "", uri }).catch((e) => `${e}`);
            return answer === "42";
          },
          "a client reaches echo-db through its Service",
          {
            timeoutMs: 60_000,
            describe: () => answer,
          },
        );
        // No default route out of the node's namespace: an address off the machine is unreachable.
        const escape = await plane.kubectl([
          "exec",
          "echo-db",
          "--",
          "bash",
          "-c",
          "exec 3<>/dev/tcp/192.0.2.1/80 && echo CONNECTED || echo UNREACHABLE",
        ]);
        assert.match(escape.stdout, /UNREACHABLE/);
      });

      await t.step("kubectl logs reads a container's output through the kubelet", async () => {
        const logs = await plane.kubectl(["logs", "echo-db"]);
        assert.equal(logs.code, 0, logs.stderr);
        assert.match(logs.stdout, /database system is ready to accept connections/);
      });
    } finally {
      await plane.stop();
    }

    await t.step(
      "stop() removed every process, mount, cgroup, namespace, link and rule",
      async () => {
        const after = await hostState();
        assert.deepEqual(processesMentioning(dir), []);
        assert.deepEqual(after.netns, before.netns);
        assert.deepEqual(after.links, before.links);
        assert.deepEqual(after.mounts, before.mounts);
        assert.deepEqual(after.cgroups, before.cgroups);
        assert.deepEqual(after.hostPaths, before.hostPaths);
        assert.equal(after.rootIptables, before.rootIptables);
        assert.equal(await Deno.stat(dir).then(() => true, () => false), false);
      },
    );
  },
);

const SERVER_MANIFESTS = JSON.stringify({
  apiVersion: "v1",
  kind: "List",
  items: [
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "echo-db", labels: { app: "echo-db" } },
      spec: {
        nodeSelector: { "kubernetes.io/hostname": "real-node" },
        containers: [{
          name: "postgres",
          image: "postgres:17",
          env: [{ name: "POSTGRES_PASSWORD", value: "pw" }],
          readinessProbe: {
            exec: { command: ["pg_isready", "-h", "127.0.0.1"] },
            periodSeconds: 1,
          },
        }],
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "echo-db" },
      spec: { selector: { app: "echo-db" }, ports: [{ port: 5432 }] },
    },
  ],
});
