/**
 * A flood of distinct junk bearer tokens at the secure metrics endpoint, against a stand-in API
 * server on loopback, on virtual time: reviews go through a client and rate limit of their own,
 * never more than `maxInFlight` at once, the excess is answered 429 at once, and the operator's
 * own requests keep flowing. Assertions are on counts and order, not on wall-clock time.
 */
import assert from "node:assert/strict";
import client from "prom-client";
import { DelegatingAuthenticator } from "../../../src/runtime/serving/authenticator.ts";
import { serveMetrics } from "../../../src/runtime/serving/metrics_server.ts";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import type { Connection } from "../../../src/runtime/client/kubeconfig.ts";
import { Logger } from "../../../src/runtime/observability/logger.ts";
import { FakeClock } from "../fake_clock.ts";
import { servedCertificate } from "../metrics_helpers.ts";

/** Resolves once `n` of `promises` have settled. */
function settledCount(n: number, promises: Promise<unknown>[]): Promise<void> {
  let settled = 0;
  return new Promise((resolve) => {
    for (const p of promises) {
      p.finally(() => ++settled === n && resolve()).catch(() => {});
    }
  });
}

/**
 * The API server's side of the reviews: TokenReviews are held until `release()`; the token
 * "prometheus" is a user allowed `get /metrics`, any other is not authenticated. Plain GETs
 * (the reconciler's) are answered at once.
 */
function apiServer() {
  const requests: { method: string; path: string; userAgent: string }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const gate = Promise.withResolvers<void>();
  const arrivals: { n: number; resolve: () => void }[] = [];
  const reviews = () => requests.filter((r) => r.path.endsWith("/tokenreviews")).length;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requests.push({ method: req.method, path, userAgent: req.headers.get("user-agent") ?? "" });
    if (path.endsWith("/tokenreviews")) {
      const token = (await req.json()).spec.token;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      for (const a of arrivals.filter((a) => reviews() >= a.n)) a.resolve();
      await gate.promise;
      inFlight--;
      return Response.json(
        token === "prometheus"
          ? { status: { authenticated: true, user: { username: "system:serviceaccount:m:p" } } }
          : { status: { authenticated: false, error: "invalid bearer token" } },
      );
    }
    if (path.endsWith("/subjectaccessreviews")) return Response.json({ status: { allowed: true } });
    return Response.json({ kind: "ConfigMapList", items: [] });
  });
  return {
    server,
    requests,
    maxInFlight: () => maxInFlight,
    reviewsArrived: (n: number) =>
      reviews() >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => arrivals.push({ n, resolve })),
    release() {
      gate.resolve();
    },
    connection: {
      server: `http://127.0.0.1:${server.addr.port}`,
      namespace: "default",
      source: "test",
      token: "operator",
    } satisfies Connection,
  };
}

async function metricsServer(authenticator: DelegatingAuthenticator) {
  const stop = new AbortController();
  const logger = new Logger({ format: "json", level: "debug", write: () => {} });
  const server = await serveMetrics({
    address: { hostname: "127.0.0.1", port: 0 },
    registry: new client.Registry(),
    logger,
    secure: { authenticator },
  }, stop.signal);
  const http = Deno.createHttpClient({ caCerts: [await servedCertificate(server.address.port)] });
  const url = `https://127.0.0.1:${server.address.port}/metrics`;
  return {
    async scrape(token: string) {
      const response = await fetch(url, {
        client: http,
        headers: { authorization: `Bearer ${token}` },
      });
      await response.body?.cancel();
      return { status: response.status, retryAfter: response.headers.get("retry-after") };
    },
    async [Symbol.asyncDispose]() {
      http.close();
      stop.abort();
      await server.finished;
    },
  };
}

Deno.test("a flood of junk tokens is capped at maxInFlight reviews, the excess gets 429, and the reconciler's requests keep flowing", async () => {
  const api = apiServer();
  const clock = new FakeClock();
  const mainCodes: string[] = [];
  const reviewCodes: string[] = [];
  // As main.ts: the reconciler's client, and one of its own for reviews, each with its bucket.
  const main = new KubeClient(api.connection, {
    qps: 10,
    burst: 5,
    clock,
    userAgent: "reconciler",
    observer: (method, code) => mainCodes.push(`${method} ${code}`),
  });
  const reviewer = new KubeClient(api.connection, {
    qps: 5,
    burst: 10,
    clock,
    userAgent: "metrics-auth",
    observer: (method, code) => reviewCodes.push(`${method} ${code}`),
  });
  const authenticator = new DelegatingAuthenticator(reviewer, { maxInFlight: 3, clock });
  try {
    await using metrics = await metricsServer(authenticator);
    const flood = Array.from({ length: 20 }, (_, i) => metrics.scrape(`junk-${i}`));
    await api.reviewsArrived(3);
    await settledCount(17, flood); // Everything but the 3 held reviews is answered at once.
    assert.equal(authenticator.inFlight, 3);

    // While the flood holds every review slot, the reconciler's requests go through at once.
    for (let i = 0; i < 5; i++) await main.request("GET", "/api/v1/namespaces/a/configmaps");
    assert.equal(clock.now(), 0, "no request of the reconciler waited for its rate limit");
    assert.deepEqual(mainCodes, Array(5).fill("GET 200"));

    api.release();
    const answers = await Promise.all(flood);
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [...Array(3).fill(401), ...Array(17).fill(429)]);
    assert.ok(answers.filter((a) => a.status === 429).every((a) => a.retryAfter === "1"));

    // The API server saw 3 reviews, never more at once, all from the reviews' client.
    assert.equal(api.maxInFlight(), 3);
    const reviews = api.requests.filter((r) => r.path.endsWith("/tokenreviews"));
    assert.equal(reviews.length, 3);
    assert.ok(reviews.every((r) => r.userAgent === "metrics-auth"));
    assert.deepEqual(reviewCodes, Array(3).fill("POST 200"));
    assert.ok(
      api.requests.filter((r) => r.userAgent === "reconciler").every((r) => r.method === "GET"),
    );

    // No backlog outlives the flood: a real caller is reviewed at once.
    assert.equal(authenticator.inFlight, 0);
    assert.equal((await metrics.scrape("prometheus")).status, 200);
    assert.equal(clock.now(), 0);
  } finally {
    api.release();
    main.close();
    reviewer.close();
    await api.server.shutdown();
  }
});

Deno.test("a review the reviews' rate limit cannot start before its timeout is answered 429 at once, leaving no debt", async () => {
  const api = apiServer();
  api.release();
  const clock = new FakeClock();
  const reviewer = new KubeClient(api.connection, { qps: 1, burst: 1, clock });
  const authenticator = new DelegatingAuthenticator(reviewer, { clock, reviewTimeoutMs: 500 });
  try {
    await using metrics = await metricsServer(authenticator);
    assert.equal((await metrics.scrape("junk-1")).status, 401); // Takes the one token.
    // The next token is 1 s away, past the 500 ms review timeout: refused without waiting.
    const refused = await metrics.scrape("junk-2");
    assert.deepEqual(refused, { status: 429, retryAfter: "1" });
    assert.equal(clock.now(), 0);
    assert.equal(api.requests.length, 1, "the refused review never reached the API server");
    // The refusal took nothing: one second later a review gets through at once.
    clock.advance(1_000);
    assert.equal((await metrics.scrape("junk-2")).status, 401, "not cached as a decision");
    assert.equal(api.requests.length, 2);
  } finally {
    reviewer.close();
    await api.server.shutdown();
  }
});
