/**
 * Small waits the harness uses while processes start: free ports, HTTP health checks, and a
 * poll that gives up with the log of the process it waits for.
 *
 * @module
 */
import { eventually } from "./eventually.ts";
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
 * Polls `check` every 100 ms until it is true (the harness's one poller, {@linkcode eventually},
 * plus the process it waits for).
 * @throws {Error} after `timeoutMs`, or once `process` exits, with the end of its log.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  process?: ManagedProcess,
): Promise<void> {
  try {
    await eventually(async () => (await check()) || (process?.exited ?? false), what, {
      timeoutMs,
      intervalMs: 100,
    });
  } catch (error) {
    throw withLog(what, "not ready", process, error);
  }
  if (process?.exited) throw withLog(what, "exited", process);
}

function withLog(what: string, state: string, process?: ManagedProcess, cause?: unknown): Error {
  const detail = process ? `\n--- last lines of ${process.logPath}:\n${process.tail()}` : "";
  return new Error(`${what} ${state} after waiting${detail}`, { cause });
}
