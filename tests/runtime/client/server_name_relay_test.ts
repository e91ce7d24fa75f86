import assert from "node:assert/strict";
import { ServerNameRelay } from "../../../src/runtime/client/server_name_relay.ts";

async function readAll(conn: Deno.Conn): Promise<string> {
  const chunks: string[] = [];
  const buffer = new Uint8Array(1024);
  while (true) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return chunks.join("");
    chunks.push(new TextDecoder().decode(buffer.subarray(0, n)));
  }
}

Deno.test("ServerNameRelay tunnels a CONNECT for any host to its one target", async () => {
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const relay = new ServerNameRelay({ hostname: "127.0.0.1", port: target.addr.port });
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(new URL(relay.url).port),
  });
  try {
    // Bytes after the request head go through too.
    await client.write(
      new TextEncoder().encode("CONNECT elsewhere.example:443 HTTP/1.1\r\nHost: x\r\n\r\nping"),
    );
    const upstream = await target.accept();
    const buffer = new Uint8Array(4);
    let received = "";
    while (received.length < 4) {
      const n = await upstream.read(buffer);
      if (n === null) break;
      received += new TextDecoder().decode(buffer.subarray(0, n));
    }
    assert.equal(received, "ping");
    await upstream.write(new TextEncoder().encode("pong"));
    upstream.close();
    assert.equal(await readAll(client), "HTTP/1.1 200 Connection established\r\n\r\npong");
  } finally {
    client.close();
    relay.close();
    target.close();
  }
});

Deno.test("ServerNameRelay answers anything but CONNECT with 405", async () => {
  const relay = new ServerNameRelay({ hostname: "127.0.0.1", port: 9 });
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(new URL(relay.url).port),
  });
  try {
    await client.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert.equal(await readAll(client), "HTTP/1.1 405 Method Not Allowed\r\n\r\n");
  } finally {
    client.close();
    relay.close();
  }
});

Deno.test("ServerNameRelay.close() ends the tunnels it holds open", async () => {
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const relay = new ServerNameRelay({ hostname: "127.0.0.1", port: target.addr.port });
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(new URL(relay.url).port),
  });
  try {
    await client.write(new TextEncoder().encode("CONNECT x:443 HTTP/1.1\r\n\r\n"));
    const upstream = await target.accept();
    const established = "HTTP/1.1 200 Connection established\r\n\r\n";
    const head = new Uint8Array(established.length);
    let filled = 0;
    while (filled < head.length) {
      const n = await client.read(head.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    assert.equal(new TextDecoder().decode(head), established);
    relay.close();
    assert.equal(await readAll(client), "");
    assert.equal(await upstream.read(new Uint8Array(1)).catch(() => null), null);
    upstream.close();
  } finally {
    client.close();
    target.close();
  }
});
