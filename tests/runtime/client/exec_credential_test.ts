import assert from "node:assert/strict";
import {
  type ExecConfig,
  ExecCredentialPlugin,
  ExecPluginError,
} from "../../../src/runtime/client/exec_credential.ts";
import { pluginDir, tokenPlugin } from "./exec_plugin_helpers.ts";

function config(command: string, extra: Partial<ExecConfig> = {}): ExecConfig {
  return {
    apiVersion: "client.authentication.k8s.io/v1",
    command,
    args: [],
    env: [],
    interactiveMode: "Never",
    user: "cloud-user",
    ...extra,
  };
}

Deno.test("ExecCredentialPlugin runs the command with its args, env and KUBERNETES_EXEC_INFO", async () => {
  await using plugins = await pluginDir();
  const command = await plugins.script("p", tokenPlugin(plugins.dir, "p", "tok"));
  const plugin = new ExecCredentialPlugin(
    config(command, {
      args: ["get-token", "--cluster", "prod one"],
      env: [{ name: "PLUGIN_GREETING", value: "hello" }],
      cluster: { server: "https://10.0.0.1:6443", config: { region: "eu" } },
    }),
    { terminal: false },
  );
  const credentials = await plugin.get();
  assert.deepEqual(credentials, { token: "tok-1" });
  assert.equal(await Deno.readTextFile(`${plugins.dir}/p.args`), "get-token|--cluster|prod one|");
  assert.equal(await Deno.readTextFile(`${plugins.dir}/p.env`), "hello");
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${plugins.dir}/p.info`)), {
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    spec: {
      interactive: false,
      cluster: { server: "https://10.0.0.1:6443", config: { region: "eu" } },
    },
  });
});

Deno.test("ExecCredentialPlugin reuses a credential until its expirationTimestamp, then runs the plugin again", async () => {
  await using plugins = await pluginDir();
  const expiry = "2030-01-01T00:00:00Z";
  const command = await plugins.script("p", tokenPlugin(plugins.dir, "p", "tok", expiry));
  let now = Date.parse(expiry) - 60_000;
  const plugin = new ExecCredentialPlugin(config(command), { terminal: false, now: () => now });
  const first = await Promise.all([plugin.get(), plugin.get(), plugin.get()]);
  assert.deepEqual(first.map((c) => c.token), ["tok-1", "tok-1", "tok-1"]);
  assert.equal(first[0]?.expiresAt, Date.parse(expiry));
  assert.equal((await plugin.get()).token, "tok-1");
  assert.equal(await plugins.runs("p"), 1, "one run served every caller");
  now = Date.parse(expiry);
  assert.equal((await plugin.get()).token, "tok-2");
  assert.equal(await plugins.runs("p"), 2);
});

Deno.test("ExecCredentialPlugin.invalidate() after a 401 makes the next get() run the plugin once more", async () => {
  await using plugins = await pluginDir();
  const command = await plugins.script("p", tokenPlugin(plugins.dir, "p", "tok"));
  const plugin = new ExecCredentialPlugin(config(command), { terminal: false });
  const rejected = await plugin.get();
  plugin.invalidate(rejected);
  const fresh = await plugin.get();
  assert.equal(fresh.token, "tok-2");
  plugin.invalidate(rejected); // A late 401 for the old token changes nothing.
  assert.equal((await plugin.get()).token, "tok-2");
  assert.equal(await plugins.runs("p"), 2);
});

Deno.test("ExecCredentialPlugin returns a client certificate and key, and speaks v1beta1", async () => {
  await using plugins = await pluginDir();
  const command = await plugins.script(
    "p",
    `printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}}'`,
  );
  const plugin = new ExecCredentialPlugin(
    config(command, { apiVersion: "client.authentication.k8s.io/v1beta1" }),
    { terminal: false },
  );
  assert.deepEqual(await plugin.get(), { certPem: "CERT", keyPem: "KEY" });
});

Deno.test("ExecCredentialPlugin reports a failing plugin in one line with its stderr", async () => {
  await using plugins = await pluginDir();
  const command = await plugins.script(
    "p",
    `echo "error: token expired" >&2\necho "run: cloud login" >&2\nexit 3`,
  );
  const plugin = new ExecCredentialPlugin(config(command), { terminal: false });
  await assert.rejects(() => plugin.get(), (error: Error) => {
    assert.ok(error instanceof ExecPluginError);
    assert.equal(
      error.message,
      `Exec plugin ${command} (user cloud-user) exited with status 3: error: token expired | run: cloud login`,
    );
    return true;
  });
});

Deno.test("ExecCredentialPlugin refuses output that is not a usable ExecCredential", async () => {
  await using plugins = await pluginDir();
  for (
    const [output, pattern] of [
      ["not json", /is not JSON/],
      [`{"apiVersion":"v1","kind":"Status"}`, /printed Status v1, not ExecCredential/],
      [
        `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}`,
        /neither a token nor a client certificate/,
      ],
      [
        `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":"C"}}`,
        /without its key/,
      ],
      [
        `{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}}`,
        /bad expirationTimestamp "soon"/,
      ],
    ] as const
  ) {
    const command = await plugins.script("p", `printf '%s' '${output}'`);
    const plugin = new ExecCredentialPlugin(config(command), { terminal: false });
    await assert.rejects(() => plugin.get(), pattern);
  }
});

Deno.test("ExecCredentialPlugin never runs an interactiveMode Always plugin without a terminal", async () => {
  await using plugins = await pluginDir();
  const command = await plugins.script("p", tokenPlugin(plugins.dir, "p", "tok"));
  const plugin = new ExecCredentialPlugin(config(command, { interactiveMode: "Always" }), {
    terminal: false,
  });
  await assert.rejects(() => plugin.get(), /needs an interactive terminal/);
  assert.equal(await plugins.runs("p"), 0);
  const ifAvailable = new ExecCredentialPlugin(
    config(command, { interactiveMode: "IfAvailable" }),
    { terminal: false },
  );
  await ifAvailable.get();
  assert.equal(
    JSON.parse(await Deno.readTextFile(`${plugins.dir}/p.info`)).spec.interactive,
    false,
  );
});

Deno.test("ExecCredentialPlugin names a missing command with its installHint", async () => {
  await using plugins = await pluginDir();
  const plugin = new ExecCredentialPlugin(
    config(`${plugins.dir}/no-such-plugin`, { installHint: "Install it with:\n  brew install x" }),
    { terminal: false },
  );
  await assert.rejects(
    () => plugin.get(),
    /no-such-plugin \(user cloud-user\) was not found: Install it with: \| brew install x/,
  );
});

Deno.test("ExecCredentialPlugin tells the plugin it is interactive only with a terminal and a mode that allows it", async () => {
  await using plugins = await pluginDir();
  const command = await plugins.script("p", tokenPlugin(plugins.dir, "p", "tok"));
  const interactiveOf = async (mode: ExecConfig["interactiveMode"], terminal: boolean) => {
    await new ExecCredentialPlugin(config(command, { interactiveMode: mode }), { terminal }).get();
    return JSON.parse(await Deno.readTextFile(`${plugins.dir}/p.info`)).spec.interactive;
  };
  assert.equal(await interactiveOf("IfAvailable", true), true);
  assert.equal(await interactiveOf("Always", true), true);
  assert.equal(await interactiveOf("Never", true), false);
  assert.equal(await interactiveOf("IfAvailable", false), false);
});
