import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { gitCommit } from "../../tools/compile.ts";
import { parseImage } from "../../tools/image_overlay.ts";
import { binaryPath, ControlPlane } from "../../tools/testenv/mod.ts";
import type { Obj } from "../manifests/cluster.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const NS = "postgres-operator-system";
const SA = "postgres-operator-controller-manager";
const IMG = "registry.example.com:5000/team/postgres-operator:v1.2.3";
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A folder for PATH holding links to `tools` and stub programs that log their arguments. */
async function binDir(tools: Record<string, string>, stubs: string[] = []) {
  const dir = await Deno.makeTempDir({ prefix: "make-test-bin-" });
  for (const [name, path] of Object.entries(tools)) await Deno.symlink(path, `${dir}/${name}`);
  for (const stub of stubs) {
    await Deno.writeTextFile(
      `${dir}/${stub}`,
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/${stub}.args"\n`,
      { mode: 0o755 },
    );
  }
  return {
    dir,
    args: async (stub: string) => (await Deno.readTextFile(`${dir}/${stub}.args`)).trimEnd(),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** `make -C REPO target VAR=…` with only `path` on PATH, as a student's shell would run it. */
async function make(path: string, target: string, vars: Record<string, string> = {}, env = {}) {
  const out = await new Deno.Command("/usr/bin/make", {
    args: ["-s", "-C", REPO, target, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)],
    clearEnv: true,
    env: { PATH: path, HOME: home, NO_COLOR: "1", ...env },
  }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

const deno = Deno.execPath();
const home = Deno.env.get("HOME") ?? "/root";

Deno.test("make targets name the one missing tool on one line", async () => {
  await using empty = await binDir({});
  for (const target of ["run", "test", "install", "deploy", "build-installer", "docker-build"]) {
    const { code, stderr } = await make(empty.dir, target);
    assert.equal(code, 2, target);
    assert.match(stderr.split("\n")[0]!, /^make: deno is not installed \(not on PATH\); /, target);
  }
  await using onlyDeno = await binDir({ deno });
  for (
    const [target, tool, vars] of [
      ["install", "kubectl", {}],
      ["uninstall", "kubectl", {}],
      ["deploy", "kubectl", {}],
      ["undeploy", "kubectl", {}],
      ["build-installer", "kubectl", {}],
      ["docker-build", "docker", {}],
      ["docker-build", "podman", { CONTAINER_TOOL: "podman" }],
      ["docker-push", "podman", { CONTAINER_TOOL: "podman" }],
      ["docker-buildx", "docker", {}],
      ["kind-load", "kind", {}],
    ] as const
  ) {
    const { code, stderr } = await make(onlyDeno.dir, target, vars);
    assert.equal(code, 2, `${target}: ${stderr}`);
    const [first, second] = stderr.split("\n");
    assert.match(first!, new RegExp(`^ship: ${tool} is not installed .*https://\\S+$`), target);
    assert.match(second!, /^make: \*\*\* /, "then only make's own line");
  }
});

Deno.test("make docker-build, docker-push and docker-buildx pass IMG to CONTAINER_TOOL", async () => {
  await using bin = await binDir({ deno, git: "/usr/bin/git" }, ["docker", "podman"]);
  const commit = await gitCommit();
  const built = await make(bin.dir, "docker-build", { IMG, CONTAINER_TOOL: "podman" });
  assert.equal(built.code, 0, built.stderr);
  assert.equal(
    await bin.args("podman"),
    ["build", "-t", IMG, "--build-arg", `COMMIT=${commit}`, REPO].join("\n"),
  );
  assert.equal((await make(bin.dir, "docker-push", { IMG })).code, 0);
  assert.equal(await bin.args("docker"), ["push", IMG].join("\n"));
  assert.equal((await make(bin.dir, "docker-buildx", { IMG })).code, 0);
  assert.equal(
    await bin.args("docker"),
    ["buildx", "build", "--platform", "linux/amd64,linux/arm64", "--push", "-t", IMG]
      .concat(["--build-arg", `COMMIT=${commit}`, REPO]).join("\n"),
  );
  // kind loads podman's images with its podman provider.
  await Deno.writeTextFile(
    `${bin.dir}/kind`,
    `#!/bin/sh\necho "$KIND_EXPERIMENTAL_PROVIDER" "$@" > "${bin.dir}/kind.args"\n`,
    { mode: 0o755 },
  );
  assert.equal((await make(bin.dir, "kind-load", { IMG, CONTAINER_TOOL: "podman" })).code, 0);
  assert.equal(await bin.args("kind"), `podman load docker-image ${IMG}`);
  // The deno task takes the same variable without make.
  const out = await new Deno.Command(deno, {
    args: ["task", "--quiet", "image"],
    cwd: REPO,
    clearEnv: true,
    env: { PATH: bin.dir, IMG: "other:tag", CONTAINER_TOOL: "podman", HOME: home },
  }).output();
  assert.equal(out.code, 0, decode(out.stderr));
  assert.match(await bin.args("podman"), /^build\n-t\nother:tag\n/);
});

Deno.test("parseImage() splits names, registry ports, tags and digests", () => {
  assert.deepEqual(parseImage("postgres-operator"), { newName: "postgres-operator" });
  assert.deepEqual(parseImage(IMG), {
    newName: "registry.example.com:5000/team/postgres-operator",
    newTag: "v1.2.3",
  });
  assert.deepEqual(parseImage("localhost:5000/op"), { newName: "localhost:5000/op" });
  assert.deepEqual(parseImage("op@sha256:abc"), { newName: "op", digest: "sha256:abc" });
  assert.throws(() => parseImage("a b"), /not an image reference/);
});

Deno.test("make install, deploy, build-installer and undeploy work on a real cluster", async (t) => {
  // cluster mode: undeploy waits for the namespace, which only the namespace controller deletes.
  await using plane = await ControlPlane.start({ mode: "cluster", installCRDs: false });
  await using bin = await binDir({ deno, kubectl: await binaryPath("kubectl") });
  const out = await Deno.makeTempDir({ prefix: "make-test-out-" });
  const env = { KUBECONFIG: plane.kubeconfigPath };
  const crd = "customresourcedefinition.apiextensions.k8s.io/databases.database.example.com";
  const exists = async (...what: string[]) =>
    (await plane.kubectl(["get", ...what, "-o", "name"])).code === 0;
  const image = async () =>
    (await plane.kubectl([
      "get",
      "deployment",
      SA,
      "-n",
      NS,
      "-o",
      "jsonpath={.spec.template.spec.containers[0].image}",
    ])).stdout;
  try {
    await t.step("install and uninstall the CRD", async () => {
      const installed = await make(bin.dir, "install", {}, env);
      assert.equal(installed.code, 0, installed.stderr);
      assert.ok(await exists(crd));
      const removed = await make(bin.dir, "uninstall", {}, env);
      assert.equal(removed.code, 0, removed.stderr);
      assert.ok(!await exists(crd));
    });

    await t.step("deploy IMG=… deploys IMG without editing manifests/", async () => {
      const deployed = await make(bin.dir, "deploy", { IMG }, env);
      assert.equal(deployed.code, 0, deployed.stderr);
      assert.match(deployed.stdout, new RegExp(`^deployment.apps/${SA} created$`, "m"));
      assert.equal(await image(), IMG);
      const status = await new Deno.Command("git", {
        args: ["-C", REPO, "status", "--porcelain", "manifests"],
      }).output();
      assert.equal(decode(status.stdout), "", "manifests/ is untouched");
    });

    const other = "registry.example.com/postgres-operator@sha256:" + "ab".repeat(32);
    await t.step("build-installer writes one file with every object and IMG", async () => {
      const installer = `${out}/install.yaml`;
      const made = await make(bin.dir, "build-installer", { IMG: other, INSTALLER: installer });
      assert.equal(made.code, 0, made.stderr);
      const objects = parseAllDocuments(await Deno.readTextFile(installer))
        .map((doc) => doc.toJS() as Obj);
      const kinds = new Set(objects.map((o) => o.kind));
      for (
        const kind of [
          "Namespace",
          "CustomResourceDefinition",
          "ServiceAccount",
          "ClusterRole",
          "ClusterRoleBinding",
          "Role",
          "RoleBinding",
          "Deployment",
          "Service",
          "NetworkPolicy",
          "PodDisruptionBudget",
        ]
      ) assert.ok(kinds.has(kind), `${kind} in ${[...kinds]}`);
      const deployment = objects.find((o) => o.kind === "Deployment")!;
      assert.equal(deployment.spec.template.spec.containers[0].image, other);
      // Over what deploy made: the file applies server-side and takes over the image.
      const applied = await plane.kubectl([
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        installer,
      ]);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, new RegExp(`^deployment.apps/${SA} serverside-applied$`, "m"));
      assert.equal(await image(), other);
    });

    await t.step("undeploy removes the Deployment and the CRD", async () => {
      const removed = await make(bin.dir, "undeploy", {}, env);
      assert.equal(removed.code, 0, removed.stderr);
      assert.ok(!await exists(crd));
      assert.ok(!await exists("deployment", SA, "-n", NS));
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
