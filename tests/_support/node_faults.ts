/**
 * The multi-node test's longer scenarios, as steps: `kubectl drain` against a
 * PodDisruptionBudget, and the failure and restore of the node a StatefulSet pod runs on.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ControlPlane, eventually, PAUSE_IMAGE } from "../../tools/testenv/mod.ts";
import { mustKubectl, psql } from "./real_node.ts";
import { alive, podIp, postgresPids, serverSpec, serverUri } from "./real_nodes.ts";

type Pod = { metadata: { name: string }; spec: { nodeName?: string } };

/** Both pods of a Deployment on `two`; drain blocked by `minAvailable: 2`, allowed by 1. */
export async function drainSteps(
  t: Deno.TestContext,
  plane: ControlPlane,
  one: string,
  two: string,
): Promise<void> {
  const kubectl = mustKubectl(plane);
  const nodesOf = async () =>
    (await plane.client.request<{ items: Pod[] }>("GET", "/api/v1/namespaces/default/pods", {
      query: { labelSelector: "app=drainee" },
    })).items.map((p) => p.spec.nodeName ?? "").sort();
  // Both replicas on the second node: the first is cordoned while they are placed.
  await kubectl(["cordon", one]);
  await apply(plane, DRAINEE);
  await kubectl(["rollout", "status", "deployment/drainee", "--timeout=120s"]);
  await kubectl(["uncordon", one]);
  assert.deepEqual(await nodesOf(), [two, two]);

  await t.step("minAvailable 2: drain is refused and evicts nothing", async () => {
    const drain = await plane.kubectl(["drain", two, "--ignore-daemonsets", "--timeout=15s"]);
    assert.notEqual(drain.code, 0);
    assert.match(drain.stderr, /disruption budget/);
    assert.deepEqual(await nodesOf(), [two, two]);
  });

  await t.step("minAvailable 1: drain moves both pods, one at a time", async () => {
    await kubectl(["patch", "pdb", "drainee", "--type=merge", "-p", '{"spec":{"minAvailable":1}}']);
    const drain = await plane.kubectl(["drain", two, "--ignore-daemonsets", "--timeout=180s"]);
    assert.equal(drain.code, 0, drain.stderr);
    await kubectl(["rollout", "status", "deployment/drainee", "--timeout=120s"]);
    await eventually(
      async () => (await nodesOf()).join() === [one, one].join(),
      "both replicas run on the first node",
      { timeoutMs: 60_000 },
    );
  });

  await t.step("uncordon makes the node schedulable again", async () => {
    const unschedulable = async () =>
      (await plane.client.request<{ spec: { unschedulable?: boolean } }>(
        "GET",
        `/api/v1/nodes/${two}`,
      )).spec.unschedulable ?? false;
    assert.equal(await unschedulable(), true);
    await kubectl(["uncordon", two]);
    assert.equal(await unschedulable(), false);
    await kubectl(["delete", "deployment,pdb", "drainee"]);
  });
}

/**
 * A one-replica StatefulSet pinned to `two`, with a row on its volume; `two` fails (its
 * processes gone at once, the Node NotReady on the controller-manager's default clock) and is
 * restored (the pod back on the same volume, the row there).
 */
export async function failSteps(
  t: Deno.TestContext,
  plane: ControlPlane,
  one: string,
  two: string,
  volumeRoot: string,
): Promise<void> {
  const kubectl = mustKubectl(plane);
  await apply(plane, keeper(two));
  await kubectl(["rollout", "status", "statefulset/keeper", "--timeout=180s"]);
  const write = "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('on its own volume')";
  const uri = async () => serverUri(await podIp(plane, "keeper-0"));
  await psql(plane, write, { secret: "", uri: await uri(), node: one });

  await t.step("the volume is bound to its node, under that node's volume root", async () => {
    type Pv = {
      spec: {
        hostPath: { path: string };
        nodeAffinity: { required: { nodeSelectorTerms: { matchExpressions: unknown[] }[] } };
      };
    };
    const pvc = await plane.client.request<{ spec: { volumeName: string } }>(
      "GET",
      "/api/v1/namespaces/default/persistentvolumeclaims/data-keeper-0",
    );
    const pv = await plane.client.request<Pv>(
      "GET",
      `/api/v1/persistentvolumes/${pvc.spec.volumeName}`,
    );
    assert.ok(pv.spec.hostPath.path.startsWith(`${volumeRoot}/`), pv.spec.hostPath.path);
    assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0]!.matchExpressions, [
      { key: "kubernetes.io/hostname", operator: "In", values: [two] },
    ]);
  });

  await t.step("fail: every process of the node is gone at once; the Node NotReady", async () => {
    const pids = await postgresPids(plane, two);
    assert.ok(pids.length > 0);
    assert.match(await plane.failNode(two), new RegExp(`^node ${two} failed: \\d+ processes`));
    const stat = (pid: number) => Deno.readTextFileSync(`/proc/${pid}/stat`);
    const left = pids.filter(alive);
    assert.deepEqual(left, [], `postgres processes left: ${left.map(stat).join("; ")}`);
    assert.deepEqual(await plane.nodePids(two), []);
    assert.ok(await Deno.stat(volumeRoot).then(() => true), "its disk stays");
    // kube-controller-manager's own node-monitor-grace-period (50 s): the harness sets none.
    let ready = "";
    await eventually(
      async () => {
        const node = await plane.client.request<
          { status: { conditions: { type: string; status: string }[] } }
        >("GET", `/api/v1/nodes/${two}`);
        ready = node.status.conditions.find((c) => c.type === "Ready")?.status ?? "";
        return ready !== "True";
      },
      `${two} turns NotReady`,
      { timeoutMs: 180_000, intervalMs: 1_000, describe: () => `Ready=${ready}` },
    );
  });

  await t.step("restore: the pod comes back on its own volume, with its row", async () => {
    assert.equal(
      await plane.restoreNode(two),
      `node ${two} restored: containerd, kubelet and kube-proxy started again, Node Ready`,
    );
    let row = "";
    await eventually(
      async () => {
        // Its new pod may have no address yet: that is a retry, as a refused login is.
        row = await uri().then((u) =>
          psql(plane, "SELECT v FROM kept", { secret: "", uri: u, node: one })
        ).catch((e) => `${e}`);
        return row === "on its own volume";
      },
      "keeper-0 serves its row again",
      { timeoutMs: 240_000, intervalMs: 2_000, describe: () => row },
    );
    await kubectl(["delete", "statefulset", "keeper", "--grace-period=1"]);
  });
}

async function apply(plane: ControlPlane, objects: unknown): Promise<void> {
  const out = await plane.kubectl(["apply", "-f", "-"], JSON.stringify(objects));
  assert.equal(out.code, 0, out.stderr);
}

const DRAINEE = {
  apiVersion: "v1",
  kind: "List",
  items: [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "drainee" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "drainee" } },
        template: {
          metadata: { labels: { app: "drainee" } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [{ name: "pause", image: PAUSE_IMAGE }],
          },
        },
      },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "drainee" },
      spec: { minAvailable: 2, selector: { matchLabels: { app: "drainee" } } },
    },
  ],
};

function keeper(node: string) {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "keeper" },
    spec: {
      replicas: 1,
      serviceName: "keeper",
      selector: { matchLabels: { app: "keeper" } },
      template: {
        metadata: { labels: { app: "keeper" } },
        spec: { nodeSelector: { "kubernetes.io/hostname": node }, ...serverSpec("data") },
      },
      volumeClaimTemplates: [{
        metadata: { name: "data" },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      }],
    },
  };
}
