import assert from "node:assert/strict";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { createCertificate } from "../../../src/runtime/serving/certificates.ts";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import { ApiError } from "../../../src/runtime/client/api_error.ts";
import { ConnectProxy, Socks5Proxy } from "./connect_proxy.ts";
import type { Connection } from "../../../src/runtime/client/kubeconfig.ts";
import { pluginDir, tokenPlugin } from "./exec_plugin_helpers.ts";
import { FakeClock } from "../fake_clock.ts";

/**
 * A plain HTTP stand-in for the API server that accepts one bearer token (any, when `accepted` is
 * null) and records the tokens it is sent.
 */
function tokenServer(accepted: string | null) {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const token = request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
    seen.push(token);
    return accepted === null || token === accepted
      ? Response.json({ gitVersion: "v1.36.3" })
      : Response.json({ kind: "Status", reason: "Unauthorized", code: 401 }, { status: 401 });
  });
  return { server, seen, url: `http://127.0.0.1:${server.addr.port}` };
}

function connection(server: string, extra: Partial<Connection> = {}): Connection {
  return { server, namespace: "default", source: "test", ...extra };
}

Deno.test("KubeClient runs the exec plugin again after a 401 and retries the request once", async () => {
  await using plugins = await pluginDir();
  const command = await plugins.script("p", tokenPlugin(plugins.dir, "p", "tok"));
  const { server, seen, url } = tokenServer("tok-2");
  const client = new KubeClient(connection(url, {
    exec: {
      apiVersion: "client.authentication.k8s.io/v1",
      command,
      args: [],
      env: [],
      interactiveMode: "Never",
      user: "u",
    },
  }));
  try {
    const version = await client.request<{ gitVersion: string }>("GET", "/version");
    assert.equal(version.gitVersion, "v1.36.3");
    assert.deepEqual(seen, ["tok-1", "tok-2"]);
    await client.request("GET", "/version");
    assert.deepEqual(seen, ["tok-1", "tok-2", "tok-2"], "the renewed token is cached");
    assert.equal(await plugins.runs("p"), 2);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient does not retry a 401 for a fixed token", async () => {
  const { server, seen, url } = tokenServer("right");
  const client = new KubeClient(connection(url, { token: "wrong" }));
  try {
    await assert.rejects(
      () => client.request("GET", "/version"),
      (error: Error) => error instanceof ApiError && error.code === 401,
    );
    assert.deepEqual(seen, ["wrong"]);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient reports a failing exec plugin as an ApiError naming the plugin", async () => {
  await using plugins = await pluginDir();
  const command = await plugins.script("p", "echo 'please log in' >&2; exit 1");
  const { server, seen, url } = tokenServer("t");
  const client = new KubeClient(connection(url, {
    exec: {
      apiVersion: "client.authentication.k8s.io/v1",
      command,
      args: [],
      env: [],
      interactiveMode: "Never",
      user: "u",
    },
  }));
  try {
    await assert.rejects(
      () => client.request("GET", "/version"),
      /GET \/version: Exec plugin .*\/p \(user u\) exited with status 1: please log in/,
    );
    assert.deepEqual(seen, []);
  } finally {
    client.close();
    await server.shutdown();
  }
});

async function pki() {
  const ca = await createCertificate({ commonName: "test-ca", isCA: true });
  const serving = await createCertificate({
    commonName: "apiserver",
    dnsNames: ["kubernetes.internal"],
    issuer: ca,
  });
  return { ca, serving };
}

Deno.test("KubeClient verifies the server as tls-server-name while connecting to the server's address", async () => {
  const { ca, serving } = await pki();
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      cert: serving.certPem,
      key: serving.keyPem,
      onListen: () => {},
    },
    () => Response.json({ gitVersion: "v1.36.3" }),
  );
  const url = `https://127.0.0.1:${server.addr.port}`;
  const named = new KubeClient(
    connection(url, { caPem: ca.certPem, token: "t", tlsServerName: "kubernetes.internal" }),
  );
  const unnamed = new KubeClient(connection(url, { caPem: ca.certPem, token: "t" }));
  try {
    const version = await named.request<{ gitVersion: string }>("GET", "/version");
    assert.equal(version.gitVersion, "v1.36.3");
    await assert.rejects(
      () => unnamed.request("GET", "/version"),
      (error: Error) => error instanceof ApiError && error.reason === "NetworkError",
      "the certificate does not name 127.0.0.1",
    );
  } finally {
    named.close();
    unnamed.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient presents the client certificate an exec plugin returns", async () => {
  const { ca, serving } = await pki();
  const user = await createCertificate({ commonName: "exec-user", issuer: ca });
  await using plugins = await pluginDir();
  const credential = {
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    status: { clientCertificateData: user.certPem, clientKeyData: user.keyPem },
  };
  await Deno.writeTextFile(`${plugins.dir}/credential.json`, JSON.stringify(credential));
  const command = await plugins.script("p", `cat "${plugins.dir}/credential.json"`);
  // Node's https server can ask for client certificates, as the API server does.
  const server = https.createServer({
    cert: serving.certPem,
    key: serving.keyPem,
    ca: [ca.certPem],
    requestCert: true,
    rejectUnauthorized: true,
  }, (request, response) => {
    const peer = (request.socket as import("node:tls").TLSSocket).getPeerCertificate();
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ user: peer.subject?.CN }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const client = new KubeClient(connection(`https://127.0.0.1:${port}`, {
    caPem: ca.certPem,
    tlsServerName: "kubernetes.internal",
    exec: {
      apiVersion: "client.authentication.k8s.io/v1",
      command,
      args: [],
      env: [],
      interactiveMode: "Never",
      user: "u",
    },
  }));
  try {
    assert.deepEqual(await client.request("GET", "/whoami"), { user: "exec-user" });
  } finally {
    client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A TLS stand-in for the API server whose certificate names only kubernetes.internal. */
async function namedServer() {
  const { ca, serving } = await pki();
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      cert: serving.certPem,
      key: serving.keyPem,
      onListen: () => {},
    },
    () => Response.json({ gitVersion: "v1.36.3" }),
  );
  return { ca, server, target: { hostname: "127.0.0.1", port: server.addr.port } };
}

Deno.test("KubeClient sends every request through an http proxy-url, with its basic auth", async () => {
  const { ca, server, target } = await namedServer();
  // The proxy leads to the server whatever host it is asked for.
  const proxy = new ConnectProxy(target);
  // kubernetes.internal does not resolve here: only the proxy can reach the server.
  const client = new KubeClient(connection(`https://kubernetes.internal:${target.port}`, {
    caPem: ca.certPem,
    token: "t",
    proxyUrl: proxy.url.replace("http://", "http://user:s%40cret@"),
  }));
  try {
    const version = await client.request<{ gitVersion: string }>("GET", "/version");
    assert.equal(version.gitVersion, "v1.36.3");
    await client.request("GET", "/version");
    assert.equal(proxy.requests.length, 1, "the tunnel is kept and reused");
    assert.match(proxy.requests[0]!, new RegExp(`^CONNECT kubernetes.internal:${target.port} `));
    assert.ok(proxy.requests[0]!.includes(`Proxy-Authorization: Basic ${btoa("user:s@cret")}`));
  } finally {
    client.close();
    proxy.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient reaches the server through an https proxy-url, verified with the kubeconfig's CA", async () => {
  const { ca, server, target } = await namedServer();
  const proxyCert = await createCertificate({
    commonName: "proxy",
    ipAddresses: ["127.0.0.1"],
    issuer: ca,
  });
  const proxy = new ConnectProxy(target, { cert: proxyCert.certPem, key: proxyCert.keyPem });
  const client = new KubeClient(connection(`https://kubernetes.internal:${target.port}`, {
    caPem: ca.certPem,
    token: "t",
    proxyUrl: proxy.url,
  }));
  try {
    const version = await client.request<{ gitVersion: string }>("GET", "/version");
    assert.equal(version.gitVersion, "v1.36.3");
  } finally {
    client.close();
    proxy.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient reaches the server through a socks5 proxy-url with username and password", async () => {
  const { ca, server, target } = await namedServer();
  const proxy = new Socks5Proxy(target);
  const client = new KubeClient(connection(`https://kubernetes.internal:${target.port}`, {
    caPem: ca.certPem,
    token: "t",
    proxyUrl: proxy.url.replace("socks5://", "socks5://me:pw@"),
  }));
  try {
    const version = await client.request<{ gitVersion: string }>("GET", "/version");
    assert.equal(version.gitVersion, "v1.36.3");
    assert.deepEqual(proxy.requests, [`me:pw kubernetes.internal:${target.port}`]);
  } finally {
    client.close();
    proxy.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient combines proxy-url with tls-server-name", async () => {
  const { ca, server, target } = await namedServer();
  const proxy = new ConnectProxy(target);
  const client = new KubeClient(connection(`https://10.0.0.1:${target.port}`, {
    caPem: ca.certPem,
    token: "t",
    tlsServerName: "kubernetes.internal",
    proxyUrl: proxy.url,
  }));
  try {
    const version = await client.request<{ gitVersion: string }>("GET", "/version");
    assert.equal(version.gitVersion, "v1.36.3");
    assert.match(proxy.requests[0]!, new RegExp(`^CONNECT 10.0.0.1:${target.port} `));
  } finally {
    client.close();
    proxy.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient reads a token file again after a 401, so a rotated token is picked up at once", async () => {
  const dir = await Deno.makeTempDir();
  const { server, seen, url } = tokenServer("newest");
  const client = new KubeClient(connection(url, { tokenFile: `${dir}/token` }));
  try {
    await Deno.writeTextFile(`${dir}/token`, "stale\n");
    await assert.rejects(() => client.request("GET", "/version"), /Unauthorized|401/);
    assert.deepEqual(seen, ["stale", "stale"], "re-read once after the 401, then gave up");
    await Deno.writeTextFile(`${dir}/token`, "newest\n");
    await client.request("GET", "/version");
    assert.deepEqual(seen, ["stale", "stale", "stale", "newest"]);
  } finally {
    client.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A temporary folder for a token file, removed on dispose. */
async function tokenDir() {
  const dir = await Deno.makeTempDir({ prefix: "token-file-" });
  return {
    file: `${dir}/token`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("KubeClient sends the token file's token when the kubeconfig also has a static token (client-go's BearerTokenFile wins)", async () => {
  await using dir = await tokenDir();
  await Deno.writeTextFile(dir.file, "from-file\n");
  const { server, seen, url } = tokenServer("from-file");
  const client = new KubeClient(connection(url, { token: "static", tokenFile: dir.file }));
  try {
    await client.request("GET", "/version");
    assert.deepEqual(seen, ["from-file"]);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient reads the token file again once a minute, on the injected clock", async () => {
  await using dir = await tokenDir();
  const clock = new FakeClock();
  const { server, seen, url } = tokenServer(null);
  const client = new KubeClient(connection(url, { tokenFile: dir.file }), { clock });
  try {
    await Deno.writeTextFile(dir.file, "first");
    await client.request("GET", "/version");
    await Deno.writeTextFile(dir.file, "second");
    clock.advance(59_999);
    await client.request("GET", "/version");
    clock.advance(1);
    await client.request("GET", "/version");
    assert.deepEqual(seen, ["first", "first", "second"]);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient keeps the last token when the token file cannot be read again, as client-go", async () => {
  await using dir = await tokenDir();
  const clock = new FakeClock();
  const { server, seen, url } = tokenServer("first");
  const client = new KubeClient(connection(url, { tokenFile: dir.file }), { clock });
  try {
    await Deno.writeTextFile(dir.file, "first");
    await client.request("GET", "/version");
    await Deno.remove(dir.file);
    clock.advance(60_000);
    await client.request("GET", "/version");
    assert.deepEqual(seen, ["first", "first"]);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient falls back to the static token while the token file cannot be read", async () => {
  await using dir = await tokenDir();
  const { server, seen, url } = tokenServer("static");
  const client = new KubeClient(connection(url, { token: "static", tokenFile: dir.file }));
  try {
    await client.request("GET", "/version");
    await Deno.writeTextFile(dir.file, "static");
    await client.request("GET", "/version");
    assert.deepEqual(seen, ["static", "static"]);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient without a static token reports a token file it cannot read", async () => {
  await using dir = await tokenDir();
  const { server, seen, url } = tokenServer(null);
  const client = new KubeClient(connection(url, { tokenFile: dir.file }));
  try {
    await assert.rejects(
      client.request("GET", "/version"),
      (error) => error instanceof ApiError && error.reason === "CredentialsError",
    );
    assert.deepEqual(seen, []);
  } finally {
    client.close();
    await server.shutdown();
  }
});
