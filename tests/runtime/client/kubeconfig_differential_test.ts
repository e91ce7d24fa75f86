/**
 * Differential test: our kubeconfig loader against `@kubernetes/client-node`'s `KubeConfig`
 * over a corpus of kubeconfigs (several contexts and namespaces, inline and file-referenced
 * certificates with relative paths, merged files, exec plugins returning tokens or client
 * certificates). Both must agree on the server, the namespace, the CA, the client certificate
 * and key, and the `Authorization` header.
 *
 * Where client-node departs from client-go (whose behaviour we follow), the test pins the
 * difference, so an upgrade that changes it shows up here.
 */
import assert from "node:assert/strict";
import { credentialsFor } from "../../../src/runtime/client/credentials.ts";
import { fromKubeconfigFiles } from "../../../src/runtime/client/kubeconfig.ts";

/** The part of client-node's `KubeConfig` this test uses. */
interface ClientNodeKubeConfig {
  loadFromFile(path: string): void;
  mergeConfig(other: ClientNodeKubeConfig, preserveContext?: boolean): void;
  setCurrentContext(name: string): void;
  getCurrentContext(): string;
  getCurrentCluster(): { server: string } | null;
  getContextObject(name: string): { namespace?: string } | null;
  applyToHTTPSOptions(options: object): Promise<void>;
}

/**
 * client-node, loaded at run time only. A specifier the type checker cannot follow keeps its
 * types (and the `@types/node` it pins, which would replace Deno's for every test) out of
 * `deno check`.
 */
const CLIENT_NODE = "@kubernetes/client-node";
const { KubeConfig } = await import(CLIENT_NODE) as {
  KubeConfig: new () => ClientNodeKubeConfig;
};

/** What both loaders must agree on. */
interface Resolved {
  server: string;
  namespace: string;
  ca?: string;
  cert?: string;
  key?: string;
  authorization?: string;
}

async function ours(paths: string[], context: string): Promise<Resolved> {
  const c = await fromKubeconfigFiles(paths, context);
  const credentials = await credentialsFor(c).get();
  return compact({
    server: c.server,
    namespace: c.namespace,
    ca: c.caPem,
    cert: credentials.certPem,
    key: credentials.keyPem,
    authorization: credentials.token ? `Bearer ${credentials.token}` : undefined,
  });
}

/** client-node's view: files merged as its `loadFromDefault` does, keeping the first context. */
async function theirs(paths: string[], context: string): Promise<Resolved> {
  const kc = new KubeConfig();
  kc.loadFromFile(paths[0]!);
  for (const path of paths.slice(1)) {
    const next = new KubeConfig();
    next.loadFromFile(path);
    kc.mergeConfig(next, true);
  }
  kc.setCurrentContext(context);
  const options: {
    headers: Record<string, string>;
    ca?: Uint8Array;
    cert?: Uint8Array;
    key?: Uint8Array;
  } = { headers: {} };
  await kc.applyToHTTPSOptions(options);
  const text = (bytes?: Uint8Array | string) =>
    bytes === undefined ? undefined : new TextDecoder().decode(
      typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes,
    );
  return compact({
    server: kc.getCurrentCluster()!.server,
    namespace: kc.getContextObject(context)?.namespace ?? "default",
    ca: text(options.ca),
    cert: text(options.cert),
    key: text(options.key),
    authorization: options.headers.Authorization,
  });
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The corpus, written into `dir`; relative paths are relative to the file naming them. */
function corpus(dir: string): Record<string, string> {
  const b64 = (text: string) => btoa(text);
  const credential = (status: Record<string, string>) =>
    JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1beta1",
      kind: "ExecCredential",
      status,
    });
  return {
    "pki/ca.crt": "CA-FROM-FILE",
    "pki/client.crt": "CERT-FROM-FILE",
    "pki/client.key": "KEY-FROM-FILE",
    "team/pki/ca.crt": "TEAM-CA",
    "plugins/cert.json": credential({
      clientCertificateData: "EXEC-CERT",
      clientKeyData: "EXEC-KEY",
    }),
    "plugins/token":
      `#!/bin/sh\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s"}}' "$1" "$PLUGIN_SUFFIX"\n`,
    "plugins/cert": `#!/bin/sh\ncat "${dir}/plugins/cert.json"\n`,
    "single/config": `
apiVersion: v1
kind: Config
current-context: inline
clusters:
- {name: inline, cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: ${
      b64("CA-INLINE")
    }}}
- {name: files, cluster: {server: "https://files.example:443/", certificate-authority: ../pki/ca.crt}}
users:
- {name: inline, user: {client-certificate-data: ${b64("CERT-INLINE")}, client-key-data: ${
      b64("KEY-INLINE")
    }}}
- {name: files, user: {client-certificate: ../pki/client.crt, client-key: ${dir}/pki/client.key}}
- {name: bearer, user: {token: static-token}}
- name: exec-token
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ${dir}/plugins/token
      args: [prod]
      env: [{name: PLUGIN_SUFFIX, value: eu}]
      interactiveMode: Never
- name: exec-cert
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ${dir}/plugins/cert}
contexts:
- {name: inline, context: {cluster: inline, user: inline, namespace: team-a}}
- {name: files, context: {cluster: files, user: files}}
- {name: bearer, context: {cluster: inline, user: bearer, namespace: team-b}}
- {name: exec-token, context: {cluster: files, user: exec-token, namespace: cloud}}
- {name: exec-cert, context: {cluster: inline, user: exec-cert}}
`,
    "merge/first": `
current-context: mine
clusters: [{name: mine, cluster: {server: "https://mine:6443", certificate-authority-data: ${
      b64("MINE-CA")
    }}}]
users: [{name: me, user: {token: my-token}}]
contexts: [{name: mine, context: {cluster: mine, user: me, namespace: first}}]
`,
    "team/second": `
current-context: team
clusters: [{name: team, cluster: {server: "https://team:6443", certificate-authority: pki/ca.crt}}]
users: [{name: team-user, user: {client-certificate: ../pki/client.crt, client-key: ../pki/client.key}}]
contexts:
- {name: team, context: {cluster: team, user: team-user, namespace: second}}
- {name: mixed, context: {cluster: team, user: me}}
`,
  };
}

async function writeCorpus(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "kubeconfig-corpus-" });
  for (const [name, text] of Object.entries(corpus(dir))) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, text);
    if (name.startsWith("plugins/") && !name.endsWith(".json")) await Deno.chmod(path, 0o755);
  }
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("our loader and client-node's KubeConfig agree over the kubeconfig corpus", async () => {
  await using corpusDir = await writeCorpus();
  const { dir } = corpusDir;
  const cases: [string[], string][] = [
    ...["inline", "files", "bearer", "exec-token", "exec-cert"].map((
      context,
    ) => [[`${dir}/single/config`], context] as [string[], string]),
    [[`${dir}/merge/first`, `${dir}/team/second`], "mine"],
    [[`${dir}/merge/first`, `${dir}/team/second`], "team"],
    [[`${dir}/merge/first`, `${dir}/team/second`], "mixed"],
    [[`${dir}/team/second`, `${dir}/merge/first`], "mine"],
  ];
  for (const [paths, context] of cases) {
    const expected = await theirs(paths, context);
    assert.deepEqual(await ours(paths, context), expected, `${paths.join(":")} context ${context}`);
  }
  // The corpus exercises every field, so agreement is not agreement on nothing.
  const exec = await ours([`${dir}/single/config`], "exec-token");
  assert.equal(exec.authorization, "Bearer prod-eu");
  const files = await ours([`${dir}/single/config`], "files");
  assert.deepEqual([files.ca, files.cert, files.key], [
    "CA-FROM-FILE",
    "CERT-FROM-FILE",
    "KEY-FROM-FILE",
  ]);
});

Deno.test("our loader follows client-go where client-node departs from it (pinned differences)", async () => {
  await using corpusDir = await writeCorpus();
  const { dir } = corpusDir;
  const merged = [`${dir}/merge/first`, `${dir}/team/second`];
  // 1. Without the second argument of mergeConfig, client-node lets the last file's
  //    current-context win; client-go (and we) keep the first file's.
  const last = new KubeConfig();
  last.loadFromFile(merged[0]!);
  const next = new KubeConfig();
  next.loadFromFile(merged[1]!);
  last.mergeConfig(next);
  assert.equal(last.getCurrentContext(), "team");
  assert.equal((await fromKubeconfigFiles(merged)).namespace, "first");
  // 2. A name defined in two files: client-node throws, client-go takes the first file's.
  await Deno.writeTextFile(
    `${dir}/dup`,
    `
clusters: [{name: mine, cluster: {server: "https://other:6443"}}]
`,
  );
  const dup = new KubeConfig();
  dup.loadFromFile(merged[0]!);
  const other = new KubeConfig();
  other.loadFromFile(`${dir}/dup`);
  assert.throws(() => dup.mergeConfig(other, true), /Duplicate cluster: mine/);
  assert.equal((await fromKubeconfigFiles([merged[0]!, `${dir}/dup`])).server, "https://mine:6443");
  // 3. client-go's `tokenFile` key: client-node reads a `token-file` key instead and ignores it.
  await Deno.writeTextFile(`${dir}/token`, "file-token");
  await Deno.writeTextFile(
    `${dir}/token-file`,
    `
current-context: t
clusters: [{name: c, cluster: {server: "https://t:6443"}}]
users: [{name: u, user: {tokenFile: token}}]
contexts: [{name: t, context: {cluster: c, user: u}}]
`,
  );
  assert.equal((await ours([`${dir}/token-file`], "t")).authorization, "Bearer file-token");
  assert.equal((await theirs([`${dir}/token-file`], "t")).authorization, undefined);
});
