/**
 * KubeClient's retries against real HTTP servers on loopback, on virtual time: what client-go's
 * `rest.Request` retries (429/5xx with Retry-After, any method; a reset GET), and what it does
 * not.
 */
import assert from "node:assert/strict";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import { ApiError } from "../../../src/runtime/client/api_error.ts";
import type { Connection } from "../../../src/runtime/client/kubeconfig.ts";
import { FakeClock } from "../fake_clock.ts";
import { isPending } from "../helpers.ts";

function connection(server: string): Connection {
  return { server, namespace: "default", source: "test", token: "t" };
}

/** An HTTP server answering each request with the next of `answers` (the last one repeats). */
function scriptedServer(answers: (() => Response)[]) {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    seen.push(request.method);
    return answers[Math.min(seen.length - 1, answers.length - 1)]!();
  });
  return { server, seen, url: `http://127.0.0.1:${server.addr.port}` };
}

const ok = () => Response.json({ kind: "ConfigMap" });
const status = (code: number, retryAfter?: string) => () =>
  Response.json(
    { kind: "Status", code, reason: code === 429 ? "TooManyRequests" : "Unavailable" },
    {
      status: code,
      headers: retryAfter === undefined ? {} : { "retry-after": retryAfter },
    },
  );

/** A client on `clock` that records each attempt's code, as rest_client_requests_total counts. */
function clientFor(url: string, clock: FakeClock, options: { timeoutMs?: number } = {}) {
  const codes: string[] = [];
  const client = new KubeClient(connection(url), {
    clock,
    qps: 0,
    observer: (_method, code) => codes.push(code),
    ...options,
  });
  return { client, codes };
}

Deno.test("KubeClient retries a 429 after its Retry-After, on the injected clock, and counts each attempt", async () => {
  const clock = new FakeClock();
  const { server, seen, url } = scriptedServer([status(429, "2"), ok]);
  const { client, codes } = clientFor(url, clock);
  try {
    const answer = client.request("GET", "/api/v1/namespaces/a/configmaps/b");
    await clock.whenPending(2); // The request's timeout, and the wait before the retry.
    assert.deepEqual(seen, ["GET"]);
    clock.advance(1_999);
    assert.equal(await isPending(answer), true);
    assert.deepEqual(seen, ["GET"], "not retried before Retry-After has passed");
    clock.advance(1);
    assert.deepEqual(await answer, { kind: "ConfigMap" });
    assert.deepEqual(seen, ["GET", "GET"]);
    assert.deepEqual(codes, ["429", "200"]);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient retries a 503 with Retry-After for a write too: the server asked for it", async () => {
  const clock = new FakeClock();
  const { server, seen, url } = scriptedServer([status(503, "1"), status(429, "0"), ok]);
  const { client, codes } = clientFor(url, clock);
  try {
    const answer = client.request("POST", "/api/v1/namespaces/a/configmaps", { body: {} });
    await clock.whenPending(2);
    clock.advance(1_000);
    assert.deepEqual(await answer, { kind: "ConfigMap" });
    assert.deepEqual(seen, ["POST", "POST", "POST"]);
    assert.deepEqual(codes, ["503", "429", "200"]);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient does not retry a 5xx or 429 without Retry-After, nor a Retry-After date", async () => {
  for (const answer of [status(500), status(429), status(503, "Wed, 21 Oct 2026 07:28:00 GMT")]) {
    const clock = new FakeClock();
    const { server, seen, url } = scriptedServer([answer, ok]);
    const { client, codes } = clientFor(url, clock);
    try {
      await assert.rejects(
        client.request("GET", "/api/v1/namespaces/a/configmaps/b"),
        (error) => error instanceof ApiError && error.code >= 429,
      );
      assert.equal(seen.length, 1);
      assert.equal(codes.length, 1);
    } finally {
      client.close();
      await server.shutdown();
    }
  }
});

Deno.test("KubeClient gives up after 10 retries, as client-go, with the server's last error", async () => {
  const clock = new FakeClock();
  const { server, seen, url } = scriptedServer([status(429, "0")]);
  const { client, codes } = clientFor(url, clock);
  try {
    // Retry-After: 0 retries at once.
    await assert.rejects(
      client.request("GET", "/api/v1/namespaces/a/configmaps/b"),
      (error) => error instanceof ApiError && error.code === 429,
    );
    assert.equal(seen.length, 11, "the first attempt and 10 retries");
    assert.deepEqual(codes, Array(11).fill("429"));
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("KubeClient fails at once when Retry-After would pass the request's deadline", async () => {
  const clock = new FakeClock();
  const { server, seen, url } = scriptedServer([status(429, "40"), ok]);
  const { client } = clientFor(url, clock, { timeoutMs: 30_000 });
  try {
    await assert.rejects(
      client.request("GET", "/api/v1/namespaces/a/configmaps/b"),
      (error) => error instanceof ApiError && error.code === 429,
    );
    assert.equal(seen.length, 1);
    assert.equal(clock.now(), 0, "no virtual time passed: nothing waited");
    assert.equal(clock.pendingTimers, 0);
  } finally {
    client.close();
    await server.shutdown();
  }
});

/**
 * A raw HTTP/1.1 server whose first `resets` connections are reset (RST) mid-request: it reads
 * one byte and closes with the rest unread, which makes the kernel send a reset. Later
 * connections get a 200.
 */
function resettingServer(resets: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const serve = async () => {
    for await (const conn of listener) {
      connections++;
      if (connections <= resets) {
        await conn.read(new Uint8Array(1)).catch(() => null);
        conn.close();
        continue;
      }
      const buffer = new Uint8Array(64 * 1024);
      let head = "";
      while (!head.includes("\r\n\r\n")) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) break;
        head += new TextDecoder().decode(buffer.subarray(0, n));
      }
      const body = '{"kind":"ConfigMap"}';
      await conn.write(new TextEncoder().encode(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      )).catch(() => {});
      conn.close();
    }
  };
  const serving = serve().catch(() => {});
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    connections: () => connections,
    async close() {
      listener.close();
      await serving;
    },
  };
}

Deno.test("KubeClient retries a GET whose connection was reset, after 1 s as client-go", async () => {
  const clock = new FakeClock();
  const server = resettingServer(1);
  const { client, codes } = clientFor(server.url, clock);
  try {
    const answer = client.request("GET", "/api/v1/namespaces/a/configmaps/b");
    await clock.whenPending(2);
    assert.equal(server.connections(), 1);
    clock.advance(999);
    assert.equal(await isPending(answer), true);
    clock.advance(1);
    assert.deepEqual(await answer, { kind: "ConfigMap" });
    assert.equal(server.connections(), 2);
    assert.deepEqual(codes, ["<error>", "200"]);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("KubeClient does not retry a write whose connection was reset: it may have taken effect", async () => {
  for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
    const clock = new FakeClock();
    const server = resettingServer(1);
    const { client, codes } = clientFor(server.url, clock);
    try {
      await assert.rejects(
        client.request(method, "/api/v1/namespaces/a/configmaps/b", { body: {} }),
        (error) => error instanceof ApiError && error.reason === "NetworkError",
      );
      assert.equal(server.connections(), 1, method);
      assert.deepEqual(codes, ["<error>"]);
    } finally {
      client.close();
      await server.close();
    }
  }
});

/**
 * A raw HTTP/1.1 server that answers the first request of a keep-alive connection and leaves the
 * next one unanswered: a connection that hangs after it was reused.
 */
function hangingAfterFirstServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const requests = Promise.withResolvers<void>();
  let seen = 0;
  const serve = async () => {
    for await (const conn of listener) {
      open.add(conn);
      (async () => {
        const buffer = new Uint8Array(64 * 1024);
        while (true) {
          const n = await conn.read(buffer).catch(() => null);
          if (n === null) return;
          if (++seen === 2) requests.resolve();
          if (seen > 1) continue; // Read, never answered.
          const body = '{"kind":"ConfigMap"}';
          await conn.write(new TextEncoder().encode(
            `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          ));
        }
      })().catch(() => {}).finally(() => open.delete(conn));
    }
  };
  const serving = serve().catch(() => {});
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    secondRequest: requests.promise,
    async close() {
      listener.close();
      for (const conn of open) conn.close();
      await serving;
    },
  };
}

Deno.test("KubeClient's timeout ends a request hung on a reused keep-alive connection", async () => {
  const clock = new FakeClock();
  const server = hangingAfterFirstServer();
  const { client } = clientFor(server.url, clock, { timeoutMs: 5_000 });
  try {
    await client.request("GET", "/api/v1/namespaces/a/configmaps/b");
    const hung = client.request("POST", "/api/v1/namespaces/a/configmaps", { body: {} });
    await server.secondRequest;
    clock.advance(5_000);
    await assert.rejects(hung, (error) => error instanceof ApiError && error.reason === "Timeout");
  } finally {
    client.close();
    await server.close();
  }
});
