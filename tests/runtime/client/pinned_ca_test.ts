import assert from "node:assert/strict";
import { createCertificate } from "../../../src/runtime/serving/certificates.ts";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";

const PROBE = new URL("./pinned_ca_probe.ts", import.meta.url).pathname;
const ROOT = new URL("../../../", import.meta.url).pathname;

/** A TLS server on 127.0.0.1 with a certificate `issuer` signed; records the tokens it is sent. */
async function serverSignedBy(issuer: Awaited<ReturnType<typeof createCertificate>>) {
  const serving = await createCertificate({
    commonName: "kube-apiserver",
    ipAddresses: ["127.0.0.1"],
    issuer,
  });
  const tokens: string[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: serving.certPem,
    key: serving.keyPem,
    onListen: () => {},
  }, (request) => {
    tokens.push(request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "");
    return Response.json({ gitVersion: "v1.36.3" });
  });
  return { server, tokens, url: `https://127.0.0.1:${server.addr.port}` };
}

Deno.test("KubeClient trusts only the kubeconfig's CA, even when the system trusts the server's", async () => {
  const kubeconfigCa = await createCertificate({ commonName: "kubeconfig-ca", isCA: true });
  // Another CA, trusted by the system store of the probe's process, as a public CA would be.
  const otherCa = await createCertificate({ commonName: "publicly-trusted-ca", isCA: true });
  const impostor = await serverSignedBy(otherCa);
  const genuine = await serverSignedBy(kubeconfigCa);
  const dir = await Deno.makeTempDir({ prefix: "pinned-ca-" });
  try {
    await Deno.writeTextFile(`${dir}/kubeconfig-ca.crt`, kubeconfigCa.certPem);
    await Deno.writeTextFile(`${dir}/system-bundle.crt`, otherCa.certPem);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", PROBE, impostor.url, `${dir}/kubeconfig-ca.crt`],
      cwd: ROOT,
      env: {
        // Deno's roots: Mozilla's and the system's, where SSL_CERT_FILE names the bundle; and
        // DENO_CERT adds the other CA on top, as an operator image's CA bundle would.
        DENO_TLS_CA_STORE: "mozilla,system",
        SSL_CERT_FILE: `${dir}/system-bundle.crt`,
        DENO_CERT: `${dir}/system-bundle.crt`,
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const outcome = JSON.parse(new TextDecoder().decode(output.stdout));

    // The staging works: the process's default roots accept the impostor.
    assert.equal(outcome.defaultRoots.accepted, true, JSON.stringify(outcome.defaultRoots));
    // What the client did before the fix: caCerts adds to those roots, so the token went out.
    assert.equal(outcome.fetchWithCaCerts.accepted, true, JSON.stringify(outcome));
    assert.ok(impostor.tokens.includes("fetch-ca-certs"));
    // KubeClient refuses the impostor and never sends it the token.
    assert.equal(outcome.kubeClient.accepted, false, JSON.stringify(outcome));
    assert.match(outcome.kubeClient.error, /NetworkError|certificate|issuer/i);
    assert.ok(!impostor.tokens.includes("kube-client"), `sent: ${impostor.tokens}`);

    // And the server the kubeconfig's CA did sign is trusted.
    const client = new KubeClient({
      server: genuine.url,
      caPem: kubeconfigCa.certPem,
      token: "t",
      namespace: "x",
      source: "test",
    });
    try {
      assert.deepEqual(await client.request("GET", "/version"), { gitVersion: "v1.36.3" });
    } finally {
      client.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await impostor.server.shutdown();
    await genuine.server.shutdown();
  }
});
