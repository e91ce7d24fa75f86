import assert from "node:assert/strict";
import client from "prom-client";
import { ControlPlane, eventually } from "../../../tools/testenv/mod.ts";
import {
  DelegatingAuthenticator,
  ReviewFailedError,
} from "../../../src/runtime/serving/authenticator.ts";
import { createCertificate } from "../../../src/runtime/serving/certificates.ts";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import { Logger } from "../../../src/runtime/observability/logger.ts";
import {
  type MetricsServerOptions,
  serveMetrics,
} from "../../../src/runtime/serving/metrics_server.ts";
import { registerProcessMetrics } from "../../../src/runtime/observability/process_metrics.ts";
import { KeyPairError } from "../../../src/runtime/serving/serving_certificate.ts";
import { createNamespace } from "../../_support/cluster.ts";
import { FakeClock } from "../fake_clock.ts";
import {
  applyRbac,
  negotiatedProtocol,
  scrape,
  servedCertificate,
  serviceAccountToken,
  total,
} from "../metrics_helpers.ts";

const address = { hostname: "127.0.0.1", port: 0 };

Deno.test("Metrics server and delegated auth against a real API server", async (t) => {
  await using plane = await ControlPlane.start({ installCRDs: false });
  await applyRbac(plane);
  const ns = await createNamespace(plane.client, "metrics-server");
  const reader = await serviceAccountToken(plane, ns, "reader", true);
  const stranger = await serviceAccountToken(plane, ns, "stranger", false);
  const registry = new client.Registry();
  registerProcessMetrics(registry);
  const logs: string[] = [];
  const logger = new Logger({ format: "json", level: "debug", write: (l) => logs.push(l) });
  // Counts the reviews the authenticator sends (it sends nothing but reviews).
  let reviews = 0;
  const reviewer = new KubeClient(plane.connection, { qps: 0, observer: () => reviews++ });
  const dir = await Deno.makeTempDir({ prefix: "metrics-certs-" });
  const writePair = async (pair: { certPem: string; keyPem: string }) => {
    await Deno.writeTextFile(`${dir}/tls.crt`, pair.certPem);
    await Deno.writeTextFile(`${dir}/tls.key`, pair.keyPem);
  };
  let pairs = 0;
  const newPair = () =>
    createCertificate({ commonName: `metrics-${++pairs}`, ipAddresses: ["127.0.0.1"] });
  const serve = async (options: Partial<MetricsServerOptions>) => {
    const stop = new AbortController();
    const server = await serveMetrics({ address, registry, logger, ...options }, stop.signal);
    return {
      url: `127.0.0.1:${server.address.port}/metrics`,
      port: server.address.port,
      [Symbol.asyncDispose]: async () => {
        stop.abort();
        await server.finished;
      },
    };
  };
  try {
    await t.step(
      "serveMetrics() swaps in a changed tls.crt/tls.key without a restart",
      async () => {
        const first = await newPair();
        await writePair(first);
        const authenticator = new DelegatingAuthenticator(reviewer);
        await using server = await serve({
          secure: { authenticator, certDir: dir, certCheckIntervalMs: 50 },
        });
        assert.equal(await statusWithCa(`https://${server.url}`, first.certPem, reader), 200);

        const second = await newPair();
        await writePair(second);
        await eventually(
          async () =>
            (await statusWithCa(`https://${server.url}`, second.certPem, reader).catch(() => 0)) ===
              200,
          "the new certificate is served",
        );
        assert.equal(await negotiatedProtocol(server.port, second.certPem), "http/1.1");

        // A key that does not match its certificate is refused; the working pair stays.
        await Deno.writeTextFile(`${dir}/tls.key`, first.keyPem);
        await eventually(
          () => logs.some((l) => l.includes("Keeping the current certificate")),
          "the bad pair is reported",
        );
        assert.equal(await statusWithCa(`https://${server.url}`, second.certPem, reader), 200);
      },
    );

    await t.step("serveMetrics() refuses to start with an unusable pair", async () => {
      await Deno.writeTextFile(`${dir}/tls.key`, "not a key");
      await assert.rejects(
        serveMetrics({
          address,
          registry,
          logger,
          secure: { authenticator: new DelegatingAuthenticator(reviewer), certDir: dir },
        }, AbortSignal.abort()),
        KeyPairError,
      );
    });

    await t.step("with http2 enabled, h2 is negotiated and served with auth", async () => {
      const pair = await newPair();
      await writePair(pair);
      const authenticator = new DelegatingAuthenticator(reviewer);
      await using server = await serve({ secure: { authenticator, certDir: dir, http2: true } });
      assert.equal(await negotiatedProtocol(server.port, pair.certPem), "h2");
      const h2 = Deno.createHttpClient({ caCerts: [pair.certPem], http1: false });
      try {
        assert.equal((await scrape(`https://${server.url}`, h2, reader)).status, 200);
        assert.equal((await scrape(`https://${server.url}`, h2, stranger)).status, 403);
      } finally {
        h2.close();
      }
    });

    await t.step("serveMetrics() rejects when its port is taken", async () => {
      using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (taken.addr as Deno.NetAddr).port;
      await assert.rejects(
        serveMetrics({ address: { ...address, port }, registry, logger }, AbortSignal.abort()),
      );
    });

    await t.step("insecure mode serves plain HTTP to anyone", async () => {
      await using server = await serve({});
      const { status, body } = await scrape(`http://${server.url}`, undefined);
      assert.equal(status, 200);
      assert.ok(total(body, "process_resident_memory_bytes") > 0);
      assert.ok(total(body, "process_open_fds") > 0, "readable with -A");
    });

    await t.step("decisions are cached per token hash until the TTL passes", async () => {
      const clock = new FakeClock();
      const auth = new DelegatingAuthenticator(reviewer, { ttlMs: 10_000, clock });
      const before = reviews;
      const decisions = await Promise.all(
        Array.from({ length: 10 }, () => auth.authorize(`Bearer ${reader}`, "get", "/metrics")),
      );
      assert.ok(decisions.every((d) => d.status === 200));
      assert.equal(reviews - before, 2, "one TokenReview and one SubjectAccessReview");
      clock.advance(9_999);
      assert.equal((await auth.authorize(`Bearer ${reader}`, "get", "/metrics")).status, 200);
      assert.equal(reviews - before, 2);
      clock.advance(1);
      assert.equal((await auth.authorize(`Bearer ${reader}`, "get", "/metrics")).status, 200);
      assert.equal(reviews - before, 4, "reviewed again after the TTL");
      assert.equal((await auth.authorize(`Bearer ${stranger}`, "get", "/metrics")).status, 403);
      assert.equal((await auth.authorize("Bearer garbage", "get", "/metrics")).status, 401);
      assert.equal((await auth.authorize("Basic abc", "get", "/metrics")).status, 401);
      assert.equal(reviews - before, 7, "garbage needs only a TokenReview; Basic none");
      assert.equal((await auth.authorize(`Bearer ${stranger}`, "get", "/metrics")).status, 403);
      assert.equal((await auth.authorize("Bearer garbage", "get", "/metrics")).status, 401);
      assert.equal(reviews - before, 7, "denials are cached too");
    });

    await t.step("the oldest decisions are dropped beyond maxEntries", async () => {
      const auth = new DelegatingAuthenticator(reviewer, { maxEntries: 2 });
      const before = reviews;
      for (const token of [reader, stranger, "garbage", reader]) {
        await auth.authorize(`Bearer ${token}`, "get", "/metrics");
      }
      assert.equal(reviews - before, 2 + 2 + 1 + 2, "reader was evicted and reviewed again");
    });

    await t.step(
      "an unreachable API server gives 500 and the error does not hold the token",
      async () => {
        const down = new KubeClient({ ...plane.connection, server: "https://127.0.0.1:1" });
        try {
          const auth = new DelegatingAuthenticator(down);
          const error = await auth.authorize(`Bearer ${reader}`, "get", "/metrics").then(
            () => assert.fail("authorized without an API server"),
            (e) => e,
          );
          assert.ok(error instanceof ReviewFailedError);
          assert.ok(!error.message.includes(reader), "the token is not in the message");
          await using server = await serve({ secure: { authenticator: auth } });
          const selfSigned = await servedCertificate(server.port);
          assert.equal(await statusWithCa(`https://${server.url}`, selfSigned, reader), 500);
        } finally {
          down.close();
        }
      },
    );
    await t.step("no log line holds a token, though debug logging was on", () => {
      assert.ok(logs.some((l) => l.includes("Forbidden metrics request")));
      assert.ok(!logs.some((l) => l.includes(reader) || l.includes(stranger)));
    });
  } finally {
    reviewer.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** GETs `url` trusting `caPem`, with a fresh connection each time. */
async function statusWithCa(url: string, caPem: string, token: string): Promise<number> {
  const http = Deno.createHttpClient({ caCerts: [caPem] });
  try {
    return (await scrape(url, http, token)).status;
  } finally {
    http.close();
  }
}
