import assert from "node:assert/strict";
import {
  fromKubeconfigFile,
  inCluster,
  KubeConfigError,
} from "../../../src/runtime/client/kubeconfig.ts";

async function withFiles(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const KUBECONFIG = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster: {server: "https://10.0.0.1:6443/", certificate-authority: ca.crt}
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team-a}
- name: ops
  context: {cluster: c1, user: u2}
- name: cloud
  context: {cluster: c1, user: u3}
users:
- name: u1
  user: {client-certificate-data: ${btoa("CERT")}, client-key-data: ${btoa("KEY")}}
- name: u2
  user: {tokenFile: token}
- name: u3
  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: gke-gcloud-auth-plugin}}
`;

Deno.test("fromKubeconfigFile() resolves the current context with inline certificates and file paths", async () => {
  await withFiles({ config: KUBECONFIG, "ca.crt": "CA" }, async (dir) => {
    const c = await fromKubeconfigFile(`${dir}/config`);
    assert.equal(c.server, "https://10.0.0.1:6443");
    assert.equal(c.caPem, "CA");
    assert.equal(c.certPem, "CERT");
    assert.equal(c.keyPem, "KEY");
    assert.equal(c.namespace, "team-a");
  });
});

Deno.test("fromKubeconfigFile() honours an explicit context and token files", async () => {
  await withFiles({ config: KUBECONFIG, "ca.crt": "CA" }, async (dir) => {
    const c = await fromKubeconfigFile(`${dir}/config`, "ops");
    assert.equal(c.tokenFile, `${dir}/token`);
    assert.equal(c.namespace, "default");
  });
});

Deno.test("fromKubeconfigFile() refuses unknown contexts, bad YAML and missing files clearly", async () => {
  await withFiles({ config: KUBECONFIG, "ca.crt": "CA", bad: "a: [" }, async (dir) => {
    await assert.rejects(
      () => fromKubeconfigFile(`${dir}/config`, "nope"),
      /no context named "nope"/,
    );
    await assert.rejects(() => fromKubeconfigFile(`${dir}/bad`), KubeConfigError);
    await assert.rejects(() => fromKubeconfigFile(`${dir}/missing`), /Cannot read/);
  });
});

Deno.test("fromKubeconfigFile() reads an exec plugin's command, args, env and interactive mode", async () => {
  await withFiles({ config: KUBECONFIG, "ca.crt": "CA" }, async (dir) => {
    const c = await fromKubeconfigFile(`${dir}/config`, "cloud");
    assert.deepEqual(c.exec, {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "gke-gcloud-auth-plugin",
      args: [],
      env: [],
      interactiveMode: "IfAvailable",
      user: "u3",
    });
  });
});

Deno.test("inCluster() reads the service-account folder and the service environment", async () => {
  const saved = {
    host: Deno.env.get("KUBERNETES_SERVICE_HOST"),
    port: Deno.env.get("KUBERNETES_SERVICE_PORT"),
  };
  Deno.env.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  Deno.env.set("KUBERNETES_SERVICE_PORT", "443");
  try {
    await withFiles({ "ca.crt": "CA", token: "t", namespace: "ops\n" }, async (dir) => {
      const c = await inCluster(dir);
      assert.equal(c.server, "https://10.96.0.1:443");
      assert.equal(c.namespace, "ops");
      assert.equal(c.tokenFile, `${dir}/token`);
      assert.equal(c.caPem, "CA");
    });
  } finally {
    for (
      const [key, value] of [["KUBERNETES_SERVICE_HOST", saved.host], [
        "KUBERNETES_SERVICE_PORT",
        saved.port,
      ]] as const
    ) {
      if (value === undefined) Deno.env.delete(key);
      else Deno.env.set(key, value);
    }
  }
});
