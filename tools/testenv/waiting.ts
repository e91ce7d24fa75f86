/**
 * Small waits the harness uses while processes start: free ports, HTTP health checks, and a
 * poll that gives up with the log of the process it waits for.
 *
 * @module
 */
import type { ManagedProcess } from "./process.ts";

/** Distinct free loopback TCP ports. */
export async function freePorts(count: number): Promise<number[]> {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const l of listeners) l.close();
  return await Promise.resolve(ports);
}

/** Whether `url` answers 2xx. */
export async function fetchOk(url: string, client?: Deno.HttpClient): Promise<boolean> {
  try {
    const response = await fetch(url, client ? { client } : {});
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Polls `check` every 100 ms until it is true.
 * @throws {Error} after `timeoutMs`, or once `process` exits, with the end of its log.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  process?: ManagedProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  process?.status.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (await check()) return;
    if (exited) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const detail = process ? `\n--- last lines of ${process.logPath}:\n${process.tail()}` : "";
  throw new Error(`${what} ${exited ? "exited" : "not ready"} after waiting${detail}`);
}
