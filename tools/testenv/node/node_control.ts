/**
 * The running cluster's fault switchboard: a Unix socket in the cluster's folder
 * (`control.sock`, next to its kubeconfig) on which the process that owns the nodes takes
 * `fail`, `partition`, `restore` and `list` requests, one JSON line each way, so that
 * `deno task node …` in another terminal, a script or a test can break and mend nodes of a
 * cluster it did not start. The socket is the owner's (root, 0600).
 *
 * @module
 */

/** One request: an operation and, except for `list`, a node. */
export interface NodeRequest {
  op: "fail" | "partition" | "restore" | "list";
  node?: string;
}

/** One answer: the line to print, or the error and its exit code (2: unknown node). */
export type NodeAnswer = { ok: true; line: string } | { ok: false; code: number; error: string };

/** An error a request should answer with its own exit code (2 for an unknown node). */
export class NodeRequestError extends Error {
  constructor(message: string, readonly code = 2) {
    super(message);
  }
}

/** The socket's path in a cluster's folder. */
export function controlSocketPath(clusterDir: string): string {
  return `${clusterDir}/control.sock`;
}

/** Serves requests with `handle` until the returned function is called. */
export function serveNodeControl(
  clusterDir: string,
  handle: (request: NodeRequest) => Promise<string>,
): () => Promise<void> {
  const path = controlSocketPath(clusterDir);
  const listener = Deno.listen({ transport: "unix", path });
  Deno.chmodSync(path, 0o600);
  const connections = new Set<Promise<void>>();
  const serveOne = async (conn: Deno.Conn) => {
    try {
      const request = JSON.parse(await readLine(conn)) as NodeRequest;
      const answer: NodeAnswer = await handle(request).then(
        (line) => ({ ok: true as const, line }),
        (error) => ({
          ok: false as const,
          code: error instanceof NodeRequestError ? error.code : 1,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
      await writeAll(conn, new TextEncoder().encode(JSON.stringify(answer) + "\n"));
    } catch {
      // A client that went away, or sent nothing readable.
    } finally {
      conn.close();
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      const served = serveOne(conn);
      connections.add(served);
      served.finally(() => connections.delete(served));
    }
  })().catch(() => {});
  return async () => {
    listener.close();
    await accepting;
    await Promise.all(connections);
    await Deno.remove(path).catch(() => {});
  };
}

/**
 * Sends one request to the cluster whose folder is `clusterDir`.
 * @throws {NodeRequestError} (code 2) when no cluster answers there.
 */
export async function requestNodeControl(
  clusterDir: string,
  request: NodeRequest,
): Promise<NodeAnswer> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path: controlSocketPath(clusterDir) });
  } catch {
    throw new NodeRequestError(
      `no running cluster with real nodes at ${clusterDir} (start one with ` +
        "`deno task cluster --real-nodes 2` and point KUBECONFIG at the kubeconfig it prints)",
    );
  }
  try {
    await writeAll(conn, new TextEncoder().encode(JSON.stringify(request) + "\n"));
    return JSON.parse(await readLine(conn)) as NodeAnswer;
  } finally {
    conn.close();
  }
}

async function readLine(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!text.includes("\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
    text = new TextDecoder().decode(concat(chunks));
  }
  return text.split("\n")[0] ?? "";
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let written = 0; written < data.length;) {
    written += await conn.write(data.subarray(written));
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
