/**
 * postgres-operator: wiring only. Flags → connection → client → manager with the Database
 * controller, health probes and metrics → run until SIGTERM/SIGINT.
 *
 * @module
 */
import { parseFlags, USAGE, UsageError } from "./src/cli/flags.ts";
import { setupDatabaseController } from "./src/database/controller.ts";
import { parseBindAddress, serveHealthProbes } from "./src/runtime/health_server.ts";
import { KubeClient } from "./src/runtime/kube_client.ts";
import { KubeConfigError, loadConnection } from "./src/runtime/kubeconfig.ts";
import { Logger } from "./src/runtime/logger.ts";
import { Manager } from "./src/runtime/manager.ts";
import { RuntimeMetrics } from "./src/runtime/metrics.ts";
import { VERSION } from "./src/version.ts";

async function main(args: string[]): Promise<number> {
  const flags = parseFlags(args);
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  if (flags.version) {
    console.log(`postgres-operator ${VERSION.version} (commit ${VERSION.commit})`);
    return 0;
  }
  const logger = new Logger({
    level: flags.logLevel,
    ...(flags.logFormat ? { format: flags.logFormat } : {}),
  });
  const healthAddress = parseBindAddress(flags.healthProbeBindAddress);
  const connection = await loadConnection({
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context ? { context: flags.context } : {}),
  });
  const metrics = new RuntimeMetrics();
  const client = new KubeClient(connection, {
    qps: flags.kubeApiQps,
    burst: flags.kubeApiBurst,
    userAgent: `postgres-operator/${VERSION.version}`,
    observer: (method, code, host) => metrics.restClientRequests.inc({ code, method, host }),
  });
  const server = await client.request<{ gitVersion: string }>("GET", "/version").catch(
    (error) => {
      throw new KubeConfigError(
        `Cannot reach the API server at ${connection.server}: ${error.message}`,
      );
    },
  );
  logger.info("Connected", {
    server: connection.server,
    version: server.gitVersion,
    source: connection.source,
  });

  const manager = new Manager({
    client,
    logger,
    metrics,
    gracefulShutdownMs: flags.gracefulShutdownMs,
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
  });
  setupDatabaseController(manager, {
    maxConcurrentReconciles: flags.maxConcurrentReconciles,
    instance: Deno.env.get("POD_NAME") ?? Deno.env.get("HOSTNAME") ?? "postgres-operator",
  });

  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) Deno.exit(1); // A second signal: stop waiting.
    logger.info("Signal received; shutting down");
    stop.abort();
  };
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  const servers: Deno.HttpServer[] = [];
  if (healthAddress) {
    servers.push(serveHealthProbes(
      healthAddress,
      {
        healthz: { ping: () => undefined },
        readyz: { informers: () => (manager.cachesSynced ? undefined : "caches not synced") },
      },
      logger,
      stop.signal,
    ));
  }
  await manager.start(stop.signal);
  await Promise.all(servers.map((s) => s.finished));
  client.close();
  logger.info("Stopped");
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    if (error instanceof UsageError || error instanceof KubeConfigError) {
      console.error(`postgres-operator: ${error.message}`);
      Deno.exit(2);
    }
    throw error;
  }
}
