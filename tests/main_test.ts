import assert from "node:assert/strict";
import { VERSION } from "../src/version.ts";
import { pluginDir } from "./runtime/client/exec_plugin_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/**
 * Runs main.ts as `deno task start` does, under the `operator` permission set that
 * `deno task compile` bakes into the binary. `--quiet` hides Deno's own notices (such as the one
 * about permission sets in the config file), which the compiled binary does not print.
 */
function operator(...args: string[]) {
  return operatorWith("operator", ...args);
}

/** Runs main.ts under the named permission set of deno.json. */
async function operatorWith(permissions: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `--config=${CONFIG}`, `-P=${permissions}`, MAIN, ...args],
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("main.ts --version prints the version and the commit", async () => {
  const { code, stdout, stderr } = await operator("--version");
  assert.equal(code, 0, stderr);
  assert.equal(stdout, `postgres-operator ${VERSION.version} (commit ${VERSION.commit})\n`);
  assert.match(VERSION.version, /^\d+\.\d+\.\d+$/);
  assert.ok(VERSION.commit.length > 0);
});

Deno.test("main.ts --help prints the flags and exits 0", async () => {
  const { code, stdout, stderr } = await operator("--help");
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^Usage: postgres-operator \[flags\]$/m);
  assert.match(stdout, /--leader-elect /);
  assert.equal(stderr, "");
});

Deno.test("main.ts refuses a bad flag with one line and exit status 2", async () => {
  for (const flag of ["--no-such-flag", "--zap-log-level=loud", "--leader-elect=maybe"]) {
    const { code, stdout, stderr } = await operator(flag);
    assert.equal(code, 2, flag);
    assert.equal(stdout, "");
    assert.match(stderr, /^postgres-operator: .+\n$/, flag);
  }
});

Deno.test("main.ts takes --zap-log-level=2 as verbosity, not as a bad flag", async () => {
  const { code, stderr } = await operator("--zap-log-level=2", "--kubeconfig=/no/such/kubeconfig");
  assert.equal(code, 2);
  assert.match(stderr, /^postgres-operator: Cannot read \/no\/such\/kubeconfig: .+\n$/);
});

Deno.test("deno.json keeps --allow-run out of the operator set and adds only it in operator-local", async () => {
  const config = JSON.parse(await Deno.readTextFile(CONFIG));
  const { operator: inCluster, "operator-local": local } = config.permissions;
  assert.equal(inCluster.run, undefined);
  assert.deepEqual(local, { ...inCluster, run: true });
  assert.match(config.tasks.start, /-P=operator-local /);
});

/** A kubeconfig whose user runs `command`, for a server nobody listens on. */
async function execKubeconfig(dir: string, command: string): Promise<string> {
  const path = `${dir}/kubeconfig`;
  await Deno.writeTextFile(
    path,
    `current-context: c
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: ${command}, interactiveMode: Never}
`,
  );
  return path;
}

Deno.test("main.ts exits 2 with one line naming an exec plugin that fails and its stderr", async () => {
  await using plugins = await pluginDir();
  const command = await plugins.script(
    "login",
    "echo 'session expired; run cloud login' >&2; exit 1",
  );
  const kubeconfig = await execKubeconfig(plugins.dir, command);
  const { code, stdout, stderr } = await operatorWith(
    "operator-local",
    `--kubeconfig=${kubeconfig}`,
  );
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `postgres-operator: Cannot get credentials for the API server at https://127.0.0.1:9: GET /version: Exec plugin ${command} (user u) exited with status 1: session expired; run cloud login\n`,
  );
});

Deno.test("main.ts under the in-cluster permission set says how to run an exec plugin instead", async () => {
  await using plugins = await pluginDir();
  const command = await plugins.script("login", "exit 0");
  const kubeconfig = await execKubeconfig(plugins.dir, command);
  const { code, stderr } = await operator(`--kubeconfig=${kubeconfig}`);
  assert.equal(code, 2);
  assert.match(
    stderr,
    /^postgres-operator: .*cannot be run without the run permission: start the operator with `deno task start` .*\n$/,
  );
});
