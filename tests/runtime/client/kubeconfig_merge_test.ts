import assert from "node:assert/strict";
import { fromKubeconfigFiles, loadConnection } from "../../../src/runtime/client/kubeconfig.ts";

/** Writes `files` (relative names, folders created) into a temporary folder for `fn`. */
async function withFiles(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = `${dir}/${name}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const FIRST = `
current-context: a
clusters:
- {name: shared, cluster: {server: "https://first:6443", certificate-authority: certs/ca.crt}}
users:
- {name: shared, user: {client-certificate: certs/u.crt, client-key: certs/u.key}}
contexts:
- {name: a, context: {cluster: shared, user: shared, namespace: from-first}}
`;

const SECOND = `
current-context: b
clusters:
- {name: shared, cluster: {server: "https://second:6443"}}
- {name: other, cluster: {server: "https://other:6443", certificate-authority: ca.crt}}
users:
- {name: shared, user: {token: from-second}}
- {name: robot, user: {tokenFile: ../tokens/robot, exec: null}}
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--cluster, other]
      interactiveMode: Never
contexts:
- {name: a, context: {cluster: other, user: robot}}
- {name: b, context: {cluster: other, user: robot, namespace: from-second}}
- {name: p, context: {cluster: other, user: plugin}}
`;

const FILES = {
  "one/config": FIRST,
  "one/certs/ca.crt": "CA-1",
  "one/certs/u.crt": "CERT-1",
  "one/certs/u.key": "KEY-1",
  "two/config": SECOND,
  "two/ca.crt": "CA-2",
  "tokens/robot": "robot-token\n",
};

Deno.test("fromKubeconfigFiles() lets the first file win each name and the current-context", async () => {
  await withFiles(FILES, async (dir) => {
    const c = await fromKubeconfigFiles([`${dir}/one/config`, `${dir}/two/config`]);
    assert.equal(c.server, "https://first:6443");
    assert.equal(c.namespace, "from-first");
    assert.equal(c.caPem, "CA-1");
    assert.equal(c.certPem, "CERT-1");
    assert.equal(c.token, undefined, "the second file's user of the same name is ignored");
    const reversed = await fromKubeconfigFiles([`${dir}/two/config`, `${dir}/one/config`]);
    assert.equal(reversed.namespace, "from-second");
    assert.equal(reversed.server, "https://other:6443");
  });
});

Deno.test("fromKubeconfigFiles() resolves relative paths against the file that names them", async () => {
  await withFiles(FILES, async (dir) => {
    const c = await fromKubeconfigFiles([`${dir}/one/config`, `${dir}/two/config`], "b");
    assert.equal(c.caPem, "CA-2");
    assert.equal(c.tokenFile, `${dir}/tokens/robot`);
    const p = await fromKubeconfigFiles([`${dir}/one/config`, `${dir}/two/config`], "p");
    assert.equal(p.exec?.command, `${dir}/two/bin/get-token`);
    assert.deepEqual(p.exec?.args, ["--cluster", "other"]);
  });
});

Deno.test("loadConnection() merges every path of KUBECONFIG and skips the ones that do not exist", async () => {
  await withFiles(FILES, async (dir) => {
    const saved = Deno.env.get("KUBECONFIG");
    Deno.env.set("KUBECONFIG", `${dir}/missing:${dir}/one/config::${dir}/two/config`);
    try {
      const c = await loadConnection({ context: "b" });
      assert.equal(c.namespace, "from-second");
      assert.equal(c.source, `${dir}/two/config (context b)`);
      Deno.env.set("KUBECONFIG", `${dir}/missing`);
      await assert.rejects(() => loadConnection(), /No kubeconfig file exists/);
    } finally {
      if (saved === undefined) Deno.env.delete("KUBECONFIG");
      else Deno.env.set("KUBECONFIG", saved);
    }
  });
});

const TLS = (cluster: string, user = "{token: t}") => `
current-context: x
clusters: [{name: c, cluster: ${cluster}}]
users: [{name: u, user: ${user}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
`;

Deno.test("fromKubeconfigFiles() honours tls-server-name and http, https and socks5 proxy-url", async () => {
  await withFiles({
    sni: TLS(`{server: "https://10.0.0.1:6443", tls-server-name: kubernetes.internal}`),
    proxy: TLS(`{server: "https://10.0.0.1:6443", proxy-url: "socks5://127.0.0.1:1080"}`),
    both: TLS(`{server: "https://x", proxy-url: "http://p:3128", tls-server-name: n}`),
  }, async (dir) => {
    assert.equal((await fromKubeconfigFiles([`${dir}/sni`])).tlsServerName, "kubernetes.internal");
    assert.equal((await fromKubeconfigFiles([`${dir}/proxy`])).proxyUrl, "socks5://127.0.0.1:1080");
    const both = await fromKubeconfigFiles([`${dir}/both`]);
    assert.deepEqual([both.proxyUrl, both.tlsServerName], ["http://p:3128", "n"]);
  });
});

Deno.test("fromKubeconfigFiles() refuses what it cannot honour with one line saying what to do", async () => {
  const cases: [string, RegExp][] = [
    [
      TLS(`{server: "https://x", insecure-skip-tls-verify: true}`),
      /insecure-skip-tls-verify.*give the cluster's certificate-authority instead/,
    ],
    [TLS(`{server: "https://x", proxy-url: "ftp://p"}`), /only http, https and socks5/],
    [
      TLS(`{server: "https://x"}`, `{auth-provider: {name: gcp, config: {}}}`),
      /legacy auth-provider "gcp".*gke-gcloud-auth-plugin/,
    ],
    [
      TLS(`{server: "https://x"}`, `{auth-provider: {name: azure}}`),
      /auth-provider "azure".*kubelogin convert-kubeconfig/,
    ],
    [
      TLS(`{server: "https://x"}`, `{auth-provider: {name: oidc}}`),
      /auth-provider "oidc".*kubectl oidc-login/,
    ],
    [TLS(`{server: "https://x"}`, `{username: a, password: b}`), /basic authentication/],
    [TLS(`{server: "https://x"}`, `{token: t, as: admin}`), /impersonates \(as\)/],
    [
      TLS(
        `{server: "https://x"}`,
        `{exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}}`,
      ),
      /User u: exec apiVersion "client.authentication.k8s.io\/v1alpha1" is not supported/,
    ],
    [
      TLS(
        `{server: "https://x"}`,
        `{exec: {apiVersion: client.authentication.k8s.io/v1, command: x}}`,
      ),
      /interactiveMode must be set/,
    ],
    [
      TLS(
        `{server: "https://x"}`,
        `{exec: {apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}}`,
      ),
      /exec has no command/,
    ],
  ];
  for (const [text, pattern] of cases) {
    await withFiles({ config: text }, async (dir) => {
      await assert.rejects(() => fromKubeconfigFiles([`${dir}/config`]), (error: Error) => {
        assert.equal(error.name, "KubeConfigError");
        assert.match(error.message, pattern);
        assert.ok(!error.message.includes("\n"));
        return true;
      });
    });
  }
});

Deno.test("fromKubeconfigFiles() hands provideClusterInfo plugins the cluster with its CA and exec extension", async () => {
  const text = `
current-context: x
clusters:
- name: c
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: ${btoa("CA-PEM")}
    extensions:
    - {name: client.authentication.k8s.io/exec, extension: {audience: prod}}
users:
- {name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: p, interactiveMode: Never, provideClusterInfo: true}}}
contexts: [{name: x, context: {cluster: c, user: u}}]
`;
  await withFiles({ config: text }, async (dir) => {
    const c = await fromKubeconfigFiles([`${dir}/config`]);
    assert.deepEqual(c.exec?.cluster, {
      server: "https://10.0.0.1:6443",
      "certificate-authority-data": btoa("CA-PEM"),
      config: { audience: "prod" },
    });
  });
});
