/**
 * Run by `pinned_ca_test.ts` in a process whose trust store also holds another CA: sends the
 * same GET three ways to a server whose certificate that other CA signed, and prints what each
 * way did as JSON.
 *
 * Arguments: the impostor's URL, the kubeconfig CA's PEM file.
 *
 * @module
 */
import https from "node:https";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";

const [impostor = "", caFile = ""] = Deno.args;
const kubeconfigCa = await Deno.readTextFile(caFile);

/** `accepted` when the server's answer came back, else the error. */
type Outcome = { accepted: true } | { accepted: false; error: string };

/** node:https with no `ca`: the process's default roots, which the test made trust the other CA. */
function defaultRoots(): Promise<Outcome> {
  return new Promise((resolve) => {
    https.get(
      `${impostor}/version`,
      { headers: { authorization: "Bearer default-roots" } },
      (r) => {
        r.resume();
        r.on("end", () => resolve({ accepted: true }));
      },
    ).on("error", (error) => resolve({ accepted: false, error: String(error) }));
  });
}

/** What the client did before: fetch with `Deno.createHttpClient({ caCerts })`. */
async function fetchWithCaCerts(): Promise<Outcome> {
  const client = Deno.createHttpClient({ caCerts: [kubeconfigCa] });
  try {
    const response = await fetch(`${impostor}/version`, {
      client,
      headers: { authorization: "Bearer fetch-ca-certs" },
    });
    await response.body?.cancel();
    return { accepted: true };
  } catch (error) {
    return { accepted: false, error: String(error) };
  } finally {
    client.close();
  }
}

async function kubeClient(): Promise<Outcome> {
  const client = new KubeClient(
    {
      server: impostor,
      caPem: kubeconfigCa,
      token: "kube-client",
      namespace: "x",
      source: "probe",
    },
    { maxRetries: 0 },
  );
  try {
    await client.request("GET", "/version");
    return { accepted: true };
  } catch (error) {
    return { accepted: false, error: String(error) };
  } finally {
    client.close();
  }
}

console.log(JSON.stringify({
  defaultRoots: await defaultRoots(),
  fetchWithCaCerts: await fetchWithCaCerts(),
  kubeClient: await kubeClient(),
}));
