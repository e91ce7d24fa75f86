import assert from "node:assert/strict";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { createCertificate } from "../../../src/runtime/serving/certificates.ts";
import { ApiError, KubeClient } from "../../../src/runtime/client/kube_client.ts";
import { ServerNameRelay } from "../../../src/runtime/client/server_name_relay.ts";
import type { Connection } from "../../../src/runtime/client/kubeconfig.ts";
import { pluginDir, tokenPlugin } from "./exec_plugin_helpers.ts";

/** A plain HTTP stand-in for the API server that accepts one bearer token and counts requests. */
function tokenServer(accepted: string) {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const token = request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
    seen.push(token);
    return token === accepted
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

Deno.test("KubeClient sends every request through proxy-url", async () => {
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
  // A CONNECT proxy that leads to the server whatever host it is asked for: the relay does that.
  const proxy = new ServerNameRelay({ hostname: "127.0.0.1", port: server.addr.port });
  // kubernetes.internal does not resolve here: only the proxy can reach the server.
  const client = new KubeClient(connection(`https://kubernetes.internal:${server.addr.port}`, {
    caPem: ca.certPem,
    token: "t",
    proxyUrl: proxy.url.replace("http://", "http://user:secret@"),
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
