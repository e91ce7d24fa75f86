import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { binaryPath, ControlPlane, eventually, ManagedProcess } from "../../tools/testenv/mod.ts";
import { Cluster, type Obj } from "./cluster.ts";
import { startInClusterOperator } from "./in_cluster_operator.ts";

const MANIFESTS = new URL("../../manifests/", import.meta.url).pathname;
const NS = "postgres-operator-system";
const SA = "postgres-operator-controller-manager";
const OPERATOR = `system:serviceaccount:${NS}:${SA}`;
const DATABASES = "databases.database.example.com";

/** `kubectl auth can-i` as `user`: the API server's own authorizer answers. */
async function can(plane: ControlPlane, user: string, verb: string, what: string, ns?: string) {
  const scope = ns === undefined ? ["--all-namespaces"] : ["-n", ns];
  const [resource, subresource] = what.split("/") as [string, string | undefined];
  const sub = subresource ? [`--subresource=${subresource}`] : [];
  const out = await plane.kubectl([
    "auth",
    "can-i",
    verb,
    resource,
    ...sub,
    ...scope,
    `--as=${user}`,
  ]);
  assert.ok(out.code === 0 || out.code === 1, out.stderr);
  return out.stdout.trim() === "yes";
}

async function mustKubectl(plane: ControlPlane, args: string[], stdin?: string): Promise<string> {
  const out = await plane.kubectl(args, stdin);
  assert.equal(out.code, 0, `kubectl ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

Deno.test("database-viewer, -editor and -admin grant what they say, aggregate into view/edit/admin, and grant no Secrets", async (t) => {
  await using plane = await ControlPlane.start();
  // The aggregation controller alone: apiserver mode runs no controller-manager.
  const aggregator = ManagedProcess.start({
    name: "clusterrole-aggregation",
    command: await binaryPath("kube-controller-manager"),
    args: [
      `--kubeconfig=${plane.kubeconfigPath}`,
      "--controllers=clusterrole-aggregation-controller",
      "--leader-elect=false",
      "--secure-port=0",
    ],
    logDir: plane.dir,
  });
  try {
    await mustKubectl(plane, ["apply", "--server-side", "-k", `${MANIFESTS}default`]);
    await mustKubectl(plane, ["create", "namespace", "shop"]);
    await mustKubectl(plane, ["create", "namespace", "other"]);
    const bind = (user: string, role: string) =>
      mustKubectl(plane, [
        "create",
        "rolebinding",
        `${user}-${role}`,
        `--clusterrole=${role}`,
        `--user=${user}`,
        "-n",
        "shop",
      ]);
    await bind("viewer", "postgres-operator-database-viewer");
    await bind("editor", "postgres-operator-database-editor");
    await bind("admin", "postgres-operator-database-admin");
    await bind("view-user", "view");
    await bind("edit-user", "edit");

    await t.step("a viewer reads Databases and changes none", async () => {
      for (const verb of ["get", "list", "watch"]) {
        assert.ok(await can(plane, "viewer", verb, DATABASES, "shop"), verb);
      }
      for (const verb of ["create", "update", "patch", "delete"]) {
        assert.ok(!await can(plane, "viewer", verb, DATABASES, "shop"), verb);
      }
      assert.ok(await can(plane, "viewer", "get", `${DATABASES}/status`, "shop"));
      assert.ok(!await can(plane, "viewer", "patch", `${DATABASES}/status`, "shop"));
      assert.ok(!await can(plane, "viewer", "list", DATABASES, "other"), "only where bound");
    });

    await t.step(
      "an editor creates, changes and deletes; only an admin deletes collections",
      async () => {
        for (const verb of ["create", "update", "patch", "delete", "get", "list", "watch"]) {
          assert.ok(await can(plane, "editor", verb, DATABASES, "shop"), verb);
        }
        assert.ok(!await can(plane, "editor", "deletecollection", DATABASES, "shop"));
        assert.ok(await can(plane, "admin", "deletecollection", DATABASES, "shop"));
        assert.ok(!await can(plane, "editor", "patch", `${DATABASES}/status`, "shop"));
      },
    );

    await t.step(
      "real requests as those users: an editor creates, a viewer reads and is refused",
      async () => {
        const db = JSON.stringify({
          apiVersion: "database.example.com/v1",
          kind: "Database",
          metadata: { name: "valid-db", namespace: "shop" },
          spec: {
            image: "postgres:17",
            replicas: 1,
            databaseName: "mydb",
            username: "admin",
            storage: { size: "10Gi" },
          },
        });
        const refused = await plane.kubectl(["create", "--as=viewer", "-f", "-"], db);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /forbidden: User "viewer" cannot create resource "databases"/);
        await mustKubectl(plane, ["create", "--as=editor", "-f", "-"], db);
        const listed = await mustKubectl(plane, [
          "get",
          DATABASES,
          "-n",
          "shop",
          "--as=viewer",
          "-o",
          "name",
        ]);
        assert.equal(listed.trim(), `database.database.example.com/valid-db`);
      },
    );

    await t.step("nothing in the three roles grants Secrets", async () => {
      for (const user of ["viewer", "editor", "admin"]) {
        for (const verb of ["get", "list", "watch"]) {
          assert.ok(!await can(plane, user, verb, "secrets", "shop"), `${user} ${verb} secrets`);
        }
      }
      const roles = parseAllDocuments(
        await mustKubectl(plane, [
          "get",
          "clusterroles",
          "-o",
          "yaml",
          "-l",
          "app.kubernetes.io/name=postgres-operator",
        ]),
      ).flatMap((doc) => (doc.toJS() as { items: Obj[] }).items)
        .filter((role) => role.metadata.name?.startsWith("postgres-operator-database-"));
      assert.equal(roles.length, 3);
      for (const role of roles) {
        const resources = role.rules.flatMap((r: { resources: string[] }) => r.resources);
        assert.deepEqual(
          resources,
          ["databases", "backups", "databases/status", "backups/status"],
          role.metadata.name,
        );
      }
    });

    await t.step("the built-in view and edit roles aggregate them", async () => {
      await eventually(
        () => can(plane, "view-user", "list", DATABASES, "shop"),
        "view aggregates database-viewer",
      );
      await eventually(
        () => can(plane, "edit-user", "create", DATABASES, "shop"),
        "edit aggregates database-editor",
      );
      assert.ok(!await can(plane, "view-user", "create", DATABASES, "shop"));
    });
  } finally {
    await aggregator.stop();
  }
});

Deno.test("manifests/namespaced: the operator is granted its namespace only, and works there", async (t) => {
  await using plane = await ControlPlane.start({ installCRDs: false });
  const cluster = new Cluster(plane.client);
  await mustKubectl(plane, ["create", "namespace", "databases"]);
  await mustKubectl(plane, ["create", "namespace", "other"]);
  const rendered = await mustKubectl(plane, ["kustomize", `${MANIFESTS}namespaced`]);
  await mustKubectl(plane, ["apply", "--server-side", "-f", "-"], rendered);
  await mustKubectl(plane, [
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    `crd/${DATABASES}`,
  ]);
  const objects = parseAllDocuments(rendered).map((doc) => doc.toJS() as Obj);

  await t.step("its ServiceAccount may act in `databases` and nowhere else", async () => {
    assert.ok(
      !objects.some((o) =>
        o.metadata.name === "postgres-operator-manager-rolebinding" &&
        o.kind === "ClusterRoleBinding"
      ),
    );
    for (
      const [verb, what] of [["list", DATABASES], ["patch", "statefulsets.apps"], [
        "create",
        "secrets",
      ]]
    ) {
      assert.ok(await can(plane, OPERATOR, verb!, what!, "databases"), `${verb} ${what}`);
      assert.ok(!await can(plane, OPERATOR, verb!, what!, "other"), `${verb} ${what} in other`);
      assert.ok(!await can(plane, OPERATOR, verb!, what!), `${verb} ${what} cluster-wide`);
    }
    assert.ok(await can(plane, OPERATOR, "get", "storageclasses.storage.k8s.io"));
    assert.ok(await can(plane, OPERATOR, "update", "leases.coordination.k8s.io", NS));
  });

  const deployment = objects.find((o) => o.kind === "Deployment")!;
  const args = (deployment.spec.template.spec.containers[0].args as string[])
    .filter((arg) => !/^--(health-probe|metrics)-bind-address=/.test(arg));
  assert.ok(args.includes("--namespace=databases"), args.join(" "));
  const token = (await mustKubectl(plane, ["create", "token", SA, "-n", NS])).trim();
  await using operator = await startInClusterOperator({
    server: plane.server,
    token,
    caPem: plane.connection.caPem!,
    namespace: NS,
    podName: `${SA}-test`,
    logDir: plane.dir,
    args,
  });
  const log = () => Deno.readTextFileSync(operator.process.logPath);

  await t.step("with the Deployment's flags it converges Databases in its namespace", async () => {
    await operator.ready();
    await cluster.createDatabase("databases", "valid-db");
    await cluster.converged("databases", "valid-db");
  });

  await t.step("a Database elsewhere is left alone, and nothing was forbidden", async () => {
    await cluster.createDatabase("other", "elsewhere");
    // The one in `databases` converging after it shows the operator is working, not stalled.
    await cluster.createDatabase("databases", "after");
    await cluster.converged("databases", "after");
    // Untouched: what it reads is only the CRD's default.
    assert.deepEqual((await cluster.database("other", "elsewhere"))?.status, { phase: "Pending" });
    assert.doesNotMatch(log(), /forbidden/i);
  });
});
