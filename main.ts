/**
 * postgres-operator: wiring only. Flags → connection → client → manager with the Database
 * controller, health probes and metrics → run until SIGTERM/SIGINT.
 *
 * @module
 */
import { parseFlags, USAGE, UsageError } from "./src/cli/flags.ts";
import {
  CA_SECRET,
  checkDatabaseCrd,
  ensureCertificateAuthority,
  setupDatabaseController,
} from "./src/database/mod.ts";
import {
  DelegatingAuthenticator,
  parseBindAddress,
  serveHealthProbes,
  serveMetrics,
} from "./src/runtime/serving/mod.ts";
import { CacheSyncTimeoutError, EventRecorder, Manager } from "./src/runtime/controller/mod.ts";
import { registerInformerMetrics } from "./src/runtime/cache/mod.ts";
import { ApiError, KubeClient, KubeConfigError, loadConnection } from "./src/runtime/client/mod.ts";
import { KubeLeaseLock, LeaderElector, setLeaderLabel } from "./src/runtime/leader_election/mod.ts";
import {
  Logger,
  logMemoryLimits,
  registerProcessMetrics,
  RuntimeMetrics,
} from "./src/runtime/observability/mod.ts";
import { VERSION } from "./src/version.ts";

/** The label the leader sets on its own pod (`"true"`), which the metrics Service selects. */
const LEADER_LABEL = "postgres-operator.example.com/leader";

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
    stacktraceLevel: flags.stacktraceLevel,
    timeEncoding: flags.timeEncoding,
    ...(flags.logFormat ? { format: flags.logFormat } : {}),
  });
  const healthAddress = parseBindAddress(flags.healthProbeBindAddress);
  const metricsAddress = parseBindAddress(flags.metricsBindAddress);
  const connection = await loadConnection({
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context ? { context: flags.context } : {}),
  });
  const metrics = new RuntimeMetrics();
  registerProcessMetrics(metrics.registry);
  const client = new KubeClient(connection, {
    qps: flags.kubeApiQps,
    burst: flags.kubeApiBurst,
    userAgent: `postgres-operator/${VERSION.version}`,
    observer: (method, code, host) => metrics.restClientRequests.inc({ code, method, host }),
  });
  const server = await client.request<{ gitVersion: string }>("GET", "/version").catch(
    (error) => {
      // A failing exec plugin never reached the server: say which of the two went wrong.
      const what = error instanceof ApiError && error.reason === "CredentialsError"
        ? "Cannot get credentials for"
        : "Cannot reach";
      throw new KubeConfigError(
        `${what} the API server at ${connection.server}: ${error.message}`,
        {
          cause: error,
        },
      );
    },
  );
  logger.info("Connected", {
    server: connection.server,
    version: server.gitVersion,
    source: connection.source,
  });
  logMemoryLimits(logger);

  const instance = Deno.env.get("POD_NAME") ?? Deno.env.get("HOSTNAME") ?? "postgres-operator";
  // The Lease's namespace, and the CA's beside it.
  const ownNamespace = flags.leaderElectionNamespace ?? connection.namespace;
  // A client of its own, so that a burst of reconciles cannot delay lease renewals.
  const electionClient = flags.leaderElect
    ? new KubeClient(connection, {
      userAgent: `postgres-operator/${VERSION.version}/leader-election`,
      observer: (method, code, host) => metrics.restClientRequests.inc({ code, method, host }),
    })
    : undefined;
  const elector = electionClient && new LeaderElector({
    lock: new KubeLeaseLock(
      electionClient,
      ownNamespace,
      flags.leaderElectionId,
    ),
    leaseDurationMs: flags.leaseDurationMs,
    renewDeadlineMs: flags.renewDeadlineMs,
    retryPeriodMs: flags.retryPeriodMs,
    logger,
    metrics,
    events: new EventRecorder({
      client: electionClient,
      controller: "database.example.com/postgres-operator",
      instance,
      logger,
    }),
  });
  // The metrics Service selects the leader's pod only (manifests/default/metrics_service.yaml).
  const pod = Deno.env.get("POD_NAME") && Deno.env.get("POD_NAMESPACE")
    ? { name: Deno.env.get("POD_NAME")!, namespace: Deno.env.get("POD_NAMESPACE")! }
    : undefined;
  if (pod) {
    await setLeaderLabel(client, pod, LEADER_LABEL, !elector, logger);
    elector?.elected.then(() => setLeaderLabel(client, pod, LEADER_LABEL, true, logger));
  }
  elector?.lost.then((error) => {
    // Another process may lead already: stop writing at once, and restart clean.
    logger.error("Leader election lost; exiting", { error });
    Deno.exit(1);
  });

  // The manager campaigns only once its caches have synced: a replica that cannot list what it
  // watches never holds the Lease, and gives up after the cache-sync timeout.
  const manager = new Manager({
    client,
    logger,
    metrics,
    ...(elector ? { leaderElector: elector } : {}),
    gracefulShutdownMs: flags.gracefulShutdownMs,
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
  });
  // The installation's CA, beside the Lease: every Database's server certificate is its.
  const ca = await ensureCertificateAuthority(client, ownNamespace).catch((error) => {
    logger.error("Cannot read or make the certificate authority", {
      secret: `${ownNamespace}/${CA_SECRET}`,
      error: (error as Error).message,
    });
    Deno.exit(1);
  });
  setupDatabaseController(manager, {
    tls: { ca, clusterDomain: flags.clusterDomain },
    maxConcurrentReconciles: flags.maxConcurrentReconciles,
    instance,
    metrics: metrics.registry,
  });
  registerInformerMetrics(metrics.registry, () => manager.informers);

  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) Deno.exit(1); // A second signal: stop waiting.
    logger.info("Signal received; shutting down");
    stop.abort();
  };
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  const servers: { finished: Promise<void> }[] = [];
  if (healthAddress) {
    servers.push(serveHealthProbes(
      healthAddress,
      {
        healthz: { ping: () => undefined },
        readyz: {
          informers: () => (manager.cachesSynced ? undefined : "caches not synced"),
          ...(elector ? { "leader-election": () => elector.healthCheck() } : {}),
        },
      },
      logger,
      stop.signal,
    ));
  }
  // Reviews of metrics callers' tokens get a client and a small rate limit of their own, so a
  // flood of new tokens cannot take the reconciler's QPS (the authenticator also caps reviews in
  // flight and answers 429 beyond).
  const reviewClient = metricsAddress && flags.metricsSecure
    ? new KubeClient(connection, {
      qps: 5,
      burst: 10,
      userAgent: `postgres-operator/${VERSION.version}/metrics-auth`,
      observer: (method, code, host) => metrics.restClientRequests.inc({ code, method, host }),
    })
    : undefined;
  if (metricsAddress) {
    servers.push(
      await serveMetrics({
        address: metricsAddress,
        registry: metrics.registry,
        logger,
        ...(reviewClient
          ? {
            secure: {
              authenticator: new DelegatingAuthenticator(reviewClient),
              http2: flags.enableHttp2,
              ...(flags.metricsCertDir ? { certDir: flags.metricsCertDir } : {}),
            },
          }
          : {}),
      }, stop.signal),
    );
  }
  // A missing CRD is said at once (the watches would only retry until the sync timeout).
  void checkDatabaseCrd(client, logger);
  let code = 0;
  try {
    // Returns after controllers have stopped and the lease (if held) has been handed over.
    await manager.start(stop.signal);
  } catch (error) {
    if (!(error instanceof CacheSyncTimeoutError)) throw error;
    logger.error("Caches did not sync; exiting", { error, unsynced: error.unsynced });
    code = 1;
    stop.abort();
  }
  await Promise.all(servers.map((s) => s.finished));
  client.close();
  electionClient?.close();
  reviewClient?.close();
  logger.info("Stopped");
  return code;
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
