/**
 * Two real nodes and the object store, as the HA and backup work is proven on them: pods
 * reach each other across nodes, drain honours a PodDisruptionBudget, a partitioned node's
 * pods keep running out of reach, a failed node comes back with its volume's data, a pod
 * talks to the store over verified HTTPS, and stopping a cluster with a failed and a
 * partitioned node leaves the host as it was.
 */
import assert from "node:assert/strict";
import {
  BACKUP_BUCKET,
  ControlPlane,
  eventually,
  inNodeNetwork,
  nodeNetwork,
  OBJECT_STORE_SECRET,
  volumeRoot,
} from "../../tools/testenv/mod.ts";
import {
  hostState,
  mustKubectl,
  processesMentioning,
  psql,
  realNodeTest,
  runPod,
} from "../_support/real_node.ts";
import {
  alive,
  nodeTask,
  podIp,
  postgresPids,
  serverPod,
  serverUri,
  service,
} from "../_support/real_nodes.ts";
import { drainSteps, failSteps } from "../_support/node_faults.ts";

const [ONE, TWO] = ["real-node", "real-node-2"] as const;

realNodeTest("ControlPlane with two real nodes and the object store", async (t) => {
  const before = await hostState();
  const plane = await ControlPlane.start({ mode: "cluster", realNodes: 2, objectStore: true });
  const dir = plane.dir;
  const kubectl = mustKubectl(plane);
  try {
    await t.step("both nodes are real and Ready, with hostname and zone labels", async () => {
      assert.deepEqual(plane.realNodes, [ONE, TWO]);
      type Node = { metadata: { labels: Record<string, string> } };
      for (const [i, name] of plane.realNodes.entries()) {
        const node = await plane.client.request<Node>("GET", `/api/v1/nodes/${name}`);
        assert.equal(node.metadata.labels["kubernetes.io/hostname"], name);
        assert.equal(node.metadata.labels["topology.kubernetes.io/zone"], `zone-${i + 1}`);
      }
      let top = "";
      await eventually(
        async () => {
          top = (await plane.kubectl(["top", "nodes", "--no-headers"])).stdout;
          return top.includes(ONE) && top.includes(TWO);
        },
        "kubectl top nodes shows both nodes",
        { timeoutMs: 120_000, intervalMs: 2_000, describe: () => top },
      );
    });

    await t.step("a pod on each node reaches the other by pod IP and by Service", async () => {
      const objects = [serverPod("srv-1", ONE), serverPod("srv-2", TWO)];
      for (const body of [...objects, service("srv-1"), service("srv-2")]) {
        const kind = body.kind === "Pod" ? "pods" : "services";
        await plane.client.request("POST", `/api/v1/namespaces/default/${kind}`, { body });
      }
      await kubectl(["wait", "--for=condition=Ready", "pod/srv-1", "pod/srv-2", "--timeout=120s"]);
      const ips = { "srv-1": await podIp(plane, "srv-1"), "srv-2": await podIp(plane, "srv-2") };
      assert.notEqual(ips["srv-1"].split(".")[2], ips["srv-2"].split(".")[2], "subnet per node");
      for (const [from, to] of [[ONE, "srv-2"], [TWO, "srv-1"]] as const) {
        const sql = "SELECT host(inet_server_addr())";
        const direct = await psql(plane, sql, { secret: "", uri: serverUri(ips[to]), node: from });
        assert.equal(direct, ips[to]);
        // kube-proxy programs a new Service within a second or so of its endpoint: retry.
        let viaService = "";
        await eventually(
          async () => {
            viaService = await psql(plane, sql, { secret: "", uri: serverUri(to), node: from })
              .catch((e) => `${e}`);
            return viaService === ips[to];
          },
          `${from} reaches ${to} through its Service`,
          { timeoutMs: 60_000, describe: () => viaService },
        );
      }
    });

    await t.step(
      "deno task node partition: pods live on, out of reach; restore heals",
      async () => {
        const ip = await podIp(plane, "srv-2");
        const pids = await postgresPids(plane, TWO);
        assert.ok(pids.length > 0, "srv-2's postgres runs on real-node-2");
        const [command, args] = inNodeNetwork(nodeNetwork(1), "curl", [
          "-sk",
          "--max-time",
          "3",
          "-o",
          "/dev/null",
          `${plane.server}/readyz`,
        ]);
        const apiServer = async () =>
          (await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output()).code;
        assert.equal(await apiServer(), 0, "the API server answers real-node-2 before");

        const cut = await nodeTask(plane.kubeconfigPath, ["partition", TWO]);
        assert.equal(cut.code, 0, cut.stderr);
        assert.equal(cut.stdout, `node ${TWO} partitioned: link down, its processes keep running`);
        const probe = () =>
          runPod(plane, {
            name: "probe",
            node: ONE,
            container: { image: "postgres:17", command: ["pg_isready", "-h", ip, "-t", "3"] },
          });
        const out = await probe();
        assert.equal(out.succeeded, false, out.logs);
        assert.match(out.logs, /no response/);
        assert.notEqual(await apiServer(), 0, "the API server is out of real-node-2's reach");
        assert.deepEqual(pids.filter(alive), pids, "srv-2's processes keep running");

        const heal = await nodeTask(plane.kubeconfigPath, ["restore", TWO]);
        assert.equal(heal.code, 0, heal.stderr);
        assert.equal(heal.stdout, `node ${TWO} restored: link up`);
        assert.equal((await probe()).succeeded, true);
        assert.equal(await apiServer(), 0);
        await kubectl(["delete", "pod,service", "srv-1", "srv-2", "--grace-period=1"]);
      },
    );

    await t.step("kubectl drain honours a PodDisruptionBudget; uncordon", async (t) => {
      await drainSteps(t, plane, ONE, TWO);
    });

    await t.step("a pod uploads to and lists the object store over verified HTTPS", async () => {
      const run = await runPod(plane, {
        name: "s3",
        node: TWO,
        container: {
          image: "postgres:17",
          command: ["bash", "-c", S3_SCRIPT],
          volumeMounts: [{ name: "store", mountPath: "/store", readOnly: true }],
        },
        volumes: [{ name: "store", secret: { secretName: OBJECT_STORE_SECRET } }],
      });
      assert.equal(run.succeeded, true, run.logs);
      const lines = run.logs.trim().split("\n");
      assert.ok(lines.includes("wrong secret: 403 SignatureDoesNotMatch"), run.logs);
      assert.ok(lines.some((l) => /^unknown key: 4\d\d \w+$/.test(l)), run.logs);
      assert.ok(lines.includes("no CA: curl exit 60"), run.logs);
      assert.match(run.logs, /<Key>probe\/hello\.txt<\/Key>/);
      assert.deepEqual(await plane.objectStore.list(BACKUP_BUCKET, "probe/"), ["probe/hello.txt"]);
    });

    await t.step(
      "node fail of a StatefulSet pod's node; restore brings its data back",
      async (t) => {
        await failSteps(t, plane, ONE, TWO, volumeRoot(dir, TWO));
      },
    );

    await t.step("deno task node: list, and exit 2 for an unknown node or no cluster", async () => {
      const list = await nodeTask(plane.kubeconfigPath, ["list"]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^real-node running Ready \d+ pods; real-node-2 running Ready/);
      const unknown = await nodeTask(plane.kubeconfigPath, ["fail", "real-node-9"]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown node "real-node-9"; the nodes are real-node, real/);
      const none = await nodeTask(`${dir}/nowhere/kubeconfig`, ["list"]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no running cluster with real nodes at/);
    });

    // Leave one node failed and one partitioned: stop must clean up after both.
    assert.match(await plane.partitionNode(ONE), /partitioned/);
    assert.match(await plane.failNode(TWO), /failed: \d+ processes killed/);
    assert.deepEqual(await plane.nodePids(TWO), []);
  } finally {
    await plane.stop();
  }

  await t.step(
    "stop() after a failed and a partitioned node leaves the host as it was",
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
});

/**
 * Run in a pod with the `object-store` Secret at /store: upload, list, then the same with a
 * wrong secret and an unknown key (refused) and without the CA (curl cannot verify the
 * server). Keys go in curl config files, never on a command line.
 */
const S3_SCRIPT = `set -euo pipefail
endpoint=$(cat /store/endpoint) region=$(cat /store/region)
printf 'user = "%s:%s"\\n' "$(cat /store/accessKeyId)" "$(cat /store/secretAccessKey)" >/tmp/keys
printf 'user = "%s:wrong-secret"\\n' "$(cat /store/accessKeyId)" >/tmp/wrong-secret
printf 'user = "NOSUCHKEY:wrong-secret"\\n' >/tmp/unknown-key
echo hello >/tmp/hello.txt
s3() { curl -sS --aws-sigv4 "aws:amz:$region:s3" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"; }
s3 -K /tmp/keys --cacert /store/ca.crt --fail-with-body -T /tmp/hello.txt "$endpoint/backups/probe/hello.txt"
s3 -K /tmp/keys --cacert /store/ca.crt --fail-with-body "$endpoint/backups?list-type=2&prefix=probe/"
echo
refused() {
  s3 -K "$1" --cacert /store/ca.crt -o /tmp/answer -w '%{http_code} ' "$endpoint/backups?list-type=2"
  sed -n 's/.*<Code>\\([^<]*\\)<.*/\\1/p' /tmp/answer
}
echo "wrong secret: $(refused /tmp/wrong-secret)"
echo "unknown key: $(refused /tmp/unknown-key)"
code=0; s3 -K /tmp/keys -o /dev/null "$endpoint/backups?list-type=2" 2>/dev/null || code=$?
echo "no CA: curl exit $code"
`;
