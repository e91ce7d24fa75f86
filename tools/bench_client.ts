/**
 * Measures requests per second through {@linkcode KubeClient} (rate limit off) against a local
 * HTTPS server whose certificate a test CA signed, and, for comparison, through Deno's `fetch`
 * with `Deno.createHttpClient({ caCerts })` (the client's transport before it pinned the CA on
 * `node:https`). The server runs in a child process, so the numbers are the client's cost.
 * Prints one line per case (`deno task bench:client`).
 *
 * @module
 */
import process from "node:process";
import { createCertificate } from "../src/runtime/serving/certificates.ts";
import { KubeClient } from "../src/runtime/client/mod.ts";
import { taskArgs } from "./task_args.ts";

const REQUESTS = 2_000;
/** Rounds per case, alternating between the two transports; the median is printed. */
const ROUNDS = 7;
const BODY = JSON.stringify({ kind: "ConfigMap", metadata: { name: "x" }, data: { a: "b" } });

if (Deno.args[0] === "--serve") {
  const [, cert = "", key = ""] = Deno.args;
  Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(cert),
    key: await Deno.readTextFile(key),
    onListen: ({ port }) => console.log(port),
  }, () => new Response(BODY, { headers: { "content-type": "application/json" } }));
} else if (import.meta.main) {
  taskArgs({
    task: "bench:client",
    summary: "requests per second through the API client",
    options: {},
  });
  console.log(await measureClient());
}

/**
 * Runs `one` `count` times with `concurrency` callers.
 * @returns Requests per second, and this process's CPU time per request in µs (steadier than
 * the rate on a busy machine).
 */
async function rate(one: () => Promise<unknown>, count: number, concurrency: number) {
  let left = count;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) await one();
  }));
  const used = process.cpuUsage(cpu);
  return {
    perSecond: count / ((performance.now() - start) / 1000),
    cpuMicros: (used.user + used.system) / count,
  };
}

function median(values: number[]): number {
  return Math.round([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!);
}

/** One line per concurrency, both transports. */
export async function measureClient(): Promise<string> {
  const ca = await createCertificate({ commonName: "bench-ca", isCA: true });
  const serving = await createCertificate({
    commonName: "bench",
    ipAddresses: ["127.0.0.1"],
    issuer: ca,
  });
  const dir = await Deno.makeTempDir({ prefix: "bench-client-" });
  await Deno.writeTextFile(`${dir}/tls.crt`, serving.certPem);
  await Deno.writeTextFile(`${dir}/tls.key`, serving.keyPem);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--serve",
      `${dir}/tls.crt`,
      `${dir}/tls.key`,
    ],
    stdout: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await lines.read()).value);
  const url = `https://127.0.0.1:${port}`;
  const client = new KubeClient(
    { server: url, caPem: ca.certPem, token: "t", namespace: "x", source: "bench" },
    { qps: 0 },
  );
  const http = Deno.createHttpClient({ caCerts: [ca.certPem] });
  const viaClient = () => client.request("GET", "/api/v1/namespaces/x/configmaps/x");
  const viaFetch = async () => {
    const response = await fetch(`${url}/api/v1/namespaces/x/configmaps/x`, {
      client: http,
      headers: { authorization: "Bearer t", accept: "application/json" },
    });
    return JSON.parse(await response.text());
  };
  const out: string[] = [];
  try {
    for (const concurrency of [1, 8]) {
      await rate(viaClient, 500, concurrency); // Warm-up: connections, JIT.
      await rate(viaFetch, 500, concurrency);
      const client: { perSecond: number; cpuMicros: number }[] = [];
      const fetched: { perSecond: number; cpuMicros: number }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        client.push(await rate(viaClient, REQUESTS, concurrency));
        fetched.push(await rate(viaFetch, REQUESTS, concurrency));
      }
      const show = (runs: typeof client) =>
        `${median(runs.map((r) => r.perSecond))} req/s, ` +
        `${median(runs.map((r) => r.cpuMicros))} µs CPU/req`;
      out.push(
        `${concurrency} at once: KubeClient ${show(client)}; fetch with caCerts ${show(fetched)}`,
      );
    }
  } finally {
    client.close();
    http.close();
    child.kill();
    await child.status;
    await lines.cancel();
    await Deno.remove(dir, { recursive: true });
  }
  return `GETs over TLS on loopback, medians of ${ROUNDS} rounds of ${REQUESTS}:\n` +
    out.join("\n");
}
