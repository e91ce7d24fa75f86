/**
 * `/healthz` and `/readyz` on `--health-probe-bind-address`, for kubelet probes.
 *
 * @module
 */
import type { Logger } from "../observability/mod.ts";

/** A named check; it throws or returns a reason string when unhealthy. */
export type Check = () => string | undefined;

/**
 * Parses controller-runtime's bind-address form (`:8081`, `127.0.0.1:8081`, `[::1]:8081`;
 * `0` = off).
 * @throws {Error} naming the address when it is not of that form.
 */
export function parseBindAddress(address: string): { hostname: string; port: number } | undefined {
  if (address === "0" || address === "") return undefined;
  const match = address.match(/^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new Error(`Invalid bind address "${address}": expected [host]:port (port 0-65535) or 0`);
  }
  return { hostname: match[1] ?? (match[2] || "0.0.0.0"), port };
}

/** Serves the probes until `signal` aborts. */
export function serveHealthProbes(
  address: { hostname: string; port: number },
  checks: { healthz: Record<string, Check>; readyz: Record<string, Check> },
  logger: Logger,
  signal: AbortSignal,
): Deno.HttpServer<Deno.NetAddr> {
  const answer = (set: Record<string, Check>, verbose: boolean) => {
    const failures: string[] = [];
    const lines: string[] = [];
    for (const [name, check] of Object.entries(set)) {
      let reason: string | undefined;
      try {
        reason = check();
      } catch (error) {
        reason = (error as Error).message;
      }
      if (reason) failures.push(`[-]${name} failed: ${reason}`);
      lines.push(reason ? `[-]${name} failed: ${reason}` : `[+]${name} ok`);
    }
    const body = verbose || failures.length > 0 ? lines.join("\n") + "\n" : "ok";
    return new Response(body, { status: failures.length > 0 ? 503 : 200 });
  };
  return Deno.serve({
    ...address,
    signal,
    onListen: (a) => logger.info("Serving health probes", { address: `${a.hostname}:${a.port}` }),
  }, (request) => {
    const url = new URL(request.url);
    const verbose = url.searchParams.has("verbose");
    if (url.pathname === "/healthz" || url.pathname === "/livez") {
      return answer(checks.healthz, verbose);
    }
    if (url.pathname === "/readyz") return answer(checks.readyz, verbose);
    return new Response("not found\n", { status: 404 });
  });
}
