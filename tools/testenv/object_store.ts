/**
 * The cluster's S3 object store: versitygw's POSIX gateway (Apache-2.0, built from its Go
 * module) on the host beside the API server, serving HTTPS with a certificate of the cluster's
 * CA, its objects in a folder under the cluster's. Pods reach it by a stable name, the
 * selector-less Service `object-store.default.svc` (port 443, Endpoints on the host's bridge
 * address); the host by `127.0.0.1`. It starts with bucket `backups` and writes the Secret
 * `default/object-store` (`endpoint`, `bucket`, `accessKeyId`, `secretAccessKey`, `ca.crt`,
 * `region`) that a Database's backup settings can name as is. The keys are random per cluster
 * and reach the gateway through its environment, never its command line.
 *
 * @example Reading an object list from the host
 * ```ts
 * const plane = await ControlPlane.start({ mode: "cluster", realNodes: 2, objectStore: true });
 * const keys = await plane.objectStore.list("backups");
 * ```
 *
 * @module
 */
import { AwsClient } from "aws4fetch";
import type { KubeClient } from "../../src/runtime/client/mod.ts";
import { binaryPath } from "./binaries.ts";
import { CLUSTER_NETWORK } from "./node/mod.ts";
import { type ClusterPki, writeServingPair } from "./pki.ts";
import { ManagedProcess } from "./process.ts";
import { freePorts, waitFor } from "./waiting.ts";

/** The bucket every cluster's store starts with. */
export const BACKUP_BUCKET = "backups";
/** The Secret (in `default`) that describes the store. */
export const OBJECT_STORE_SECRET = "object-store";
/** The in-cluster endpoint: the Service's DNS name on 443. */
export const OBJECT_STORE_ENDPOINT = "https://object-store.default.svc";

const REGION = "us-east-1";

/** A running store; `stop()` ends the gateway (its folder goes with the cluster's). */
export interface ObjectStore {
  /** What pods use: {@linkcode OBJECT_STORE_ENDPOINT}. */
  endpoint: string;
  /** What the host uses: `https://127.0.0.1:<port>`. */
  hostEndpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The cluster CA that signed the store's certificate, in PEM. */
  caPem: string;
  /** Where the objects live (`<bucket>/<key>` below it). */
  dataDir: string;
  /** The keys in `bucket` (from the host, over HTTPS, signed with the store's keys). */
  list(bucket: string, prefix?: string): Promise<string[]>;
  /** A signed request from the host; `credentials` overrides the store's own keys. */
  request(
    path: string,
    init?: RequestInit,
    credentials?: { accessKeyId: string; secretAccessKey: string },
  ): Promise<Response>;
  /** Stops the gateway (connections are refused), as an outage; {@linkcode resume} ends it. */
  interrupt(): Promise<void>;
  /** Starts the gateway again on the same port and waits until it answers. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the gateway, waits until it answers a signed request, creates the bucket, the
 * Service, its Endpoints and the Secret, and prints what the Secret holds (but the secret key).
 */
export async function startObjectStore(
  client: KubeClient,
  clusterDir: string,
  pki: ClusterPki,
): Promise<ObjectStore> {
  const dir = `${clusterDir}/object-store`;
  const dataDir = `${dir}/data`;
  await Deno.mkdir(dataDir, { recursive: true });
  const serving = await writeServingPair(dir, "tls", pki.ca, {
    commonName: "object-store",
    ipAddresses: ["127.0.0.1", CLUSTER_NETWORK.hostIp],
    dnsNames: [
      "object-store",
      "object-store.default",
      "object-store.default.svc",
      "object-store.default.svc.cluster.local",
    ],
  });
  const [port] = await freePorts(1);
  const accessKeyId = randomKey(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
  const secretAccessKey = randomKey(
    40,
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
  );
  const command = await binaryPath("versitygw");
  const gateway = () =>
    ManagedProcess.start({
      name: "versitygw",
      command,
      args: [
        `--port=127.0.0.1:${port}`,
        `--port=${CLUSTER_NETWORK.hostIp}:${port}`,
        `--cert=${serving.certFile}`,
        `--key=${serving.keyFile}`,
        `--region=${REGION}`,
        "--quiet",
        "posix",
        dataDir,
      ],
      env: { ROOT_ACCESS_KEY_ID: accessKeyId, ROOT_SECRET_ACCESS_KEY: secretAccessKey },
      logDir: clusterDir,
    });
  let process: ManagedProcess | undefined = gateway();
  const http = Deno.createHttpClient({ caCerts: [pki.ca.certPem] });
  const hostEndpoint = `https://127.0.0.1:${port}`;
  const store: ObjectStore = {
    endpoint: OBJECT_STORE_ENDPOINT,
    hostEndpoint,
    bucket: BACKUP_BUCKET,
    accessKeyId,
    secretAccessKey,
    caPem: pki.ca.certPem,
    dataDir,
    async request(path, init = {}, credentials = { accessKeyId, secretAccessKey }) {
      const aws = new AwsClient({ ...credentials, service: "s3", region: REGION });
      const signed = await aws.sign(`${hostEndpoint}${path}`, init);
      return await fetch(signed, { client: http });
    },
    async list(bucket, prefix = "") {
      const query = `list-type=2&prefix=${encodeURIComponent(prefix)}`;
      const response = await store.request(`/${bucket}?${query}`);
      const body = await response.text();
      if (!response.ok) throw new Error(`ListObjectsV2 ${bucket}: ${response.status} ${body}`);
      return [...body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!);
    },
    async interrupt() {
      await process?.stop();
      process = undefined;
    },
    async resume() {
      if (process) return;
      process = gateway();
      await waitFor("versitygw", answers, 30_000, process);
    },
    async stop() {
      await process?.stop();
      process = undefined;
      http.close();
    },
  };
  const answers = async () => (await store.request("/").catch(() => undefined))?.ok ?? false;
  try {
    await waitFor("versitygw", answers, 30_000, process);
    const created = await store.request(`/${BACKUP_BUCKET}`, { method: "PUT" });
    if (!created.ok) throw new Error(`CreateBucket: ${created.status} ${await created.text()}`);
    await publish(client, port!, store);
  } catch (error) {
    await store.stop();
    throw error;
  }
  return store;
}

/** The Service and Endpoints that name the store in the cluster, and the Secret. */
async function publish(client: KubeClient, port: number, store: ObjectStore): Promise<void> {
  const ns = "/api/v1/namespaces/default";
  const metadata = { name: "object-store", namespace: "default" };
  await client.request("POST", `${ns}/services`, {
    body: {
      apiVersion: "v1",
      kind: "Service",
      metadata,
      spec: { ports: [{ name: "https", port: 443, targetPort: port, protocol: "TCP" }] },
    },
  });
  await client.request("POST", `${ns}/endpoints`, {
    body: {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata,
      subsets: [{
        addresses: [{ ip: CLUSTER_NETWORK.hostIp }],
        ports: [{ name: "https", port, protocol: "TCP" }],
      }],
    },
  });
  await client.request("POST", `${ns}/secrets`, {
    body: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: OBJECT_STORE_SECRET, namespace: "default" },
      type: "Opaque",
      stringData: {
        endpoint: store.endpoint,
        bucket: store.bucket,
        accessKeyId: store.accessKeyId,
        secretAccessKey: store.secretAccessKey,
        "ca.crt": store.caPem,
        region: REGION,
      },
    },
  });
}

/** `length` characters of `alphabet` from the CSPRNG (rejection sampling, no modulo bias). */
function randomKey(length: number, alphabet: string): string {
  let out = "";
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      if (byte < limit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}
