/**
 * An exec credential plugin for the end-to-end test: each run mints a fresh ServiceAccount token
 * with the TokenRequest API of the test's control plane and says it expires after
 * `PLUGIN_LIFETIME_SECONDS`.
 *
 * The API server does not issue tokens shorter than ten minutes, so expiry is made real another
 * way: each token is bound to a Secret of its own (`boundObjectRef`), and each run deletes the
 * Secrets of earlier runs, which revokes their tokens. Once the operator asks for a new
 * credential, the old one no longer works.
 *
 * Environment: `PLUGIN_ADMIN_KUBECONFIG` (used to mint), `PLUGIN_NAMESPACE`,
 * `PLUGIN_SERVICE_ACCOUNT`, `PLUGIN_LIFETIME_SECONDS`, `PLUGIN_LOG` (one JSON line per run, with
 * the token, so the test can check that revoked ones fail).
 *
 * @module
 */
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import { loadConnection } from "../../../src/runtime/client/kubeconfig.ts";

const env = (name: string) => {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const ns = env("PLUGIN_NAMESPACE");
const account = env("PLUGIN_SERVICE_ACCOUNT");
const lifetimeMs = Number(env("PLUGIN_LIFETIME_SECONDS")) * 1000;
const client = new KubeClient(await loadConnection({ kubeconfig: env("PLUGIN_ADMIN_KUBECONFIG") }));
try {
  const secrets = `/api/v1/namespaces/${ns}/secrets`;
  const label = "exec-plugin-test=token-binding";
  const earlier = await client.request<{ items: { metadata: { name: string } }[] }>(
    "GET",
    secrets,
    { query: { labelSelector: label } },
  );
  const binding = await client.request<{ metadata: { name: string; uid: string } }>(
    "POST",
    secrets,
    {
      body: {
        metadata: {
          generateName: "token-binding-",
          labels: { "exec-plugin-test": "token-binding" },
        },
      },
    },
  );
  const minted = await client.request<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/${ns}/serviceaccounts/${account}/token`,
    {
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: {
          expirationSeconds: 600,
          boundObjectRef: { apiVersion: "v1", kind: "Secret", ...binding.metadata },
        },
      },
    },
  );
  for (const old of earlier.items) {
    await client.request("DELETE", `${secrets}/${old.metadata.name}`);
  }
  const expires = new Date(Date.now() + lifetimeMs).toISOString();
  const info = JSON.parse(Deno.env.get("KUBERNETES_EXEC_INFO") ?? "{}");
  await Deno.writeTextFile(
    env("PLUGIN_LOG"),
    JSON.stringify({
      expires,
      binding: binding.metadata.name,
      interactive: info.spec?.interactive,
      token: minted.status.token,
    }) +
      "\n",
    { append: true },
  );
  console.log(JSON.stringify({
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    status: { token: minted.status.token, expirationTimestamp: expires },
  }));
} finally {
  client.close();
}
