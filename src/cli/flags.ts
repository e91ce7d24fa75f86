/**
 * Command-line flags, named as controller-runtime's scaffolded `main.go` names them.
 *
 * @module
 */
import { parseBindAddress } from "../runtime/serving/mod.ts";
import { parseArgs } from "node:util";
import {
  type Level,
  LEVEL_VALUES,
  TIME_ENCODINGS,
  type TimeEncoding,
} from "../runtime/observability/mod.ts";

/** Parsed and validated flags. */
export interface Flags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  kubeApiQps: number;
  kubeApiBurst: number;
  maxConcurrentReconciles: number;
  metricsBindAddress: string;
  metricsSecure: boolean;
  metricsCertDir?: string;
  enableHttp2: boolean;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionId: string;
  leaderElectionNamespace?: string;
  /** The cluster's DNS domain, for the names server certificates cover. */
  clusterDomain: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  gracefulShutdownMs: number;
  /** A level name or a zap level number (`--zap-log-level=2` is -2, verbosity V(2)). */
  logLevel: Level;
  /** Unset: console on a terminal, JSON otherwise (`--zap-devel`: console). */
  logFormat?: "json" | "console";
  stacktraceLevel: Level;
  timeEncoding: TimeEncoding;
  zapDevel: boolean;
  help: boolean;
  version: boolean;
}

const BOOLEAN_FLAGS = [
  "metrics-secure",
  "enable-http2",
  "leader-elect",
  "zap-devel",
  "help",
  "version",
];

/** Bad flags: the message is one line for the user; `main` exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Help text; defaults shown here are the ones `parseFlags` applies. */
export const USAGE =
  `postgres-operator: runs Database (database.example.com/v1) resources as PostgreSQL
StatefulSets, with their Secrets and Services.

Usage: postgres-operator [flags]

Connection:
  --kubeconfig PATH                  kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --context NAME                     kubeconfig context (default: current-context)
  --namespace NAME                   watch only this namespace (default: all namespaces)
  --kube-api-qps N                   client-side limit of API requests per second; <= 0 is off (default 50)
  --kube-api-burst N                 burst above --kube-api-qps, a whole number >= 1 (default 100)

Reconciling:
  --max-concurrent-reconciles N      Database reconciles run in parallel (default 2)
  --cluster-domain DOMAIN            the cluster's DNS domain, named in server certificates (default cluster.local)
  --graceful-shutdown-timeout SECS   time for reconciles in flight to finish on SIGTERM (default 30)

Serving:
  --metrics-bind-address ADDR        metrics endpoint, e.g. :8443; 0 disables (default :8443)
  --metrics-secure BOOL              serve metrics over HTTPS with TokenReview/SubjectAccessReview (default true)
  --metrics-cert-dir DIR             folder with tls.crt and tls.key (default: self-signed in memory)
  --enable-http2                     allow HTTP/2 on the metrics server (default false)
  --health-probe-bind-address ADDR   /healthz and /readyz, e.g. :8081; 0 disables (default :8081)

High availability:
  --leader-elect                     elect a leader through a Lease before reconciling (default false)
  --leader-election-id NAME          Lease name (default postgres-operator.example.com)
  --leader-election-namespace NS     Lease namespace (default: own namespace in-cluster, else kubeconfig's)
  --leader-elect-lease-duration SECS (default 15)
  --leader-elect-renew-deadline SECS (default 10)
  --leader-elect-retry-period SECS   (default 2)

Logging (controller-runtime's zap flags):
  --zap-devel                        development defaults: console, debug, stacktraces from warn (default false)
  --zap-encoder FORMAT               json or console (default: console on a terminal, else json)
  --zap-log-level LEVEL              debug, info, warn, error, panic, or an integer N > 0 for verbosity V(N) (default info)
  --zap-stacktrace-level LEVEL       info, warn, error or panic: lines at or above it carry a stacktrace (default error)
  --zap-time-encoding FORMAT         epoch, millis, nano, iso8601, rfc3339 or rfc3339nano (default rfc3339)
  --log-format FORMAT                json or text: the same as --zap-encoder json or console

  --help                             show this help
  --version                          print version and commit
`;

/**
 * Parses argv.
 * @throws {UsageError} for unknown flags or invalid values.
 */
export function parseFlags(argv: string[]): Flags {
  // `deno task start -- --kubeconfig …`: Deno 2.9 passes the `--` through to the program.
  if (argv[0] === "--") argv = argv.slice(1);
  // Go's boolean flags also take "--name=true|false"; node's parseArgs does not.
  const explicit = new Map<string, boolean>();
  const args = argv.filter((arg) => {
    const match = arg.match(/^--([a-z0-9-]+)=(.*)$/);
    if (!match || !BOOLEAN_FLAGS.includes(match[1]!)) return true;
    if (match[2] !== "true" && match[2] !== "false") {
      throw new UsageError(`--${match[1]} must be true or false, got "${match[2]}"`);
    }
    explicit.set(match[1]!, match[2] === "true");
    return false;
  });
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        "kubeconfig": { type: "string" },
        "context": { type: "string" },
        "namespace": { type: "string" },
        "kube-api-qps": { type: "string" },
        "kube-api-burst": { type: "string" },
        "max-concurrent-reconciles": { type: "string" },
        "graceful-shutdown-timeout": { type: "string" },
        "metrics-bind-address": { type: "string" },
        "metrics-secure": { type: "boolean" },
        "metrics-cert-dir": { type: "string" },
        "enable-http2": { type: "boolean" },
        "health-probe-bind-address": { type: "string" },
        "leader-elect": { type: "boolean" },
        "leader-election-id": { type: "string" },
        "leader-election-namespace": { type: "string" },
        "cluster-domain": { type: "string" },
        "leader-elect-lease-duration": { type: "string" },
        "leader-elect-renew-deadline": { type: "string" },
        "leader-elect-retry-period": { type: "string" },
        "zap-devel": { type: "boolean" },
        "zap-encoder": { type: "string" },
        "zap-log-level": { type: "string" },
        "zap-stacktrace-level": { type: "string" },
        "zap-time-encoding": { type: "string" },
        "log-format": { type: "string" },
        "help": { type: "boolean", short: "h" },
        "version": { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message.split("\n")[0]} (see --help)`);
  }
  const str = (name: string) => values[name] as string | undefined;
  const num = (name: string, fallback: number, min = -Infinity) => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value) || value < min) {
      throw new UsageError(
        `--${name} must be a number${min > -Infinity ? ` >= ${min}` : ""}, got "${raw}"`,
      );
    }
    return value;
  };
  const bool = (name: string, fallback: boolean) =>
    explicit.get(name) ?? (values[name] === true ? true : fallback);
  const zapDevel = bool("zap-devel", false);
  const logLevel = parseLevel("zap-log-level", str("zap-log-level"), true) ??
    (zapDevel ? "debug" : "info");
  const stacktraceLevel = parseLevel("zap-stacktrace-level", str("zap-stacktrace-level"), false) ??
    (zapDevel ? "warn" : "error");
  const logFormat = parseEncoder(str("zap-encoder"), str("log-format")) ??
    (zapDevel ? "console" : undefined);
  const timeEncoding = str("zap-time-encoding") ?? "rfc3339";
  if (!(TIME_ENCODINGS as readonly string[]).includes(timeEncoding)) {
    throw new UsageError(
      `--zap-time-encoding must be one of ${TIME_ENCODINGS.join(", ")}, got "${timeEncoding}"`,
    );
  }
  const workers = num("max-concurrent-reconciles", 2, 1);
  if (!Number.isInteger(workers)) {
    throw new UsageError(`--max-concurrent-reconciles must be a whole number, got ${workers}`);
  }
  // client-go silently reads a burst of 0 as its default of 10; refusing it is clearer than
  // that, and than a limiter that can never grant a request.
  const burst = num("kube-api-burst", 100, 1);
  if (!Number.isInteger(burst)) {
    throw new UsageError(`--kube-api-burst must be a whole number, got ${burst}`);
  }
  const flags: Flags = {
    kubeApiQps: num("kube-api-qps", 50),
    kubeApiBurst: burst,
    maxConcurrentReconciles: workers,
    gracefulShutdownMs: num("graceful-shutdown-timeout", 30, 0) * 1000,
    metricsBindAddress: str("metrics-bind-address") ?? ":8443",
    metricsSecure: bool("metrics-secure", true),
    enableHttp2: bool("enable-http2", false),
    healthProbeBindAddress: str("health-probe-bind-address") ?? ":8081",
    leaderElect: bool("leader-elect", false),
    leaderElectionId: str("leader-election-id") ?? "postgres-operator.example.com",
    clusterDomain: str("cluster-domain") ?? "cluster.local",
    leaseDurationMs: num("leader-elect-lease-duration", 15, 1) * 1000,
    renewDeadlineMs: num("leader-elect-renew-deadline", 10, 1) * 1000,
    retryPeriodMs: num("leader-elect-retry-period", 2, 0.1) * 1000,
    logLevel,
    stacktraceLevel,
    timeEncoding: timeEncoding as TimeEncoding,
    zapDevel,
    help: bool("help", false),
    version: bool("version", false),
  };
  for (
    const [name, value] of [
      ["metrics-bind-address", flags.metricsBindAddress],
      ["health-probe-bind-address", flags.healthProbeBindAddress],
    ] as const
  ) {
    try {
      parseBindAddress(value);
    } catch (error) {
      throw new UsageError(`--${name}: ${(error as Error).message}`);
    }
  }
  if (flags.renewDeadlineMs >= flags.leaseDurationMs) {
    throw new UsageError("--leader-elect-renew-deadline must be shorter than the lease duration");
  }
  for (const name of ["kubeconfig", "context", "namespace", "leader-election-namespace"] as const) {
    const value = str(name);
    if (value !== undefined) Object.assign(flags, { [camel(name)]: value });
  }
  if (logFormat) flags.logFormat = logFormat;
  if (
    !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(flags.clusterDomain)
  ) {
    throw new UsageError(
      `--cluster-domain must be a DNS domain such as cluster.local, got "${flags.clusterDomain}"`,
    );
  }
  const certDir = str("metrics-cert-dir");
  if (certDir) flags.metricsCertDir = certDir;
  return flags;
}

/**
 * A level as controller-runtime's zap flags take it: a name in any case, or (for the log level)
 * an integer N > 0 meaning verbosity V(N), which is zap level -N.
 */
function parseLevel(flag: string, raw: string | undefined, integers: boolean): Level | undefined {
  if (raw === undefined) return undefined;
  const name = raw.toLowerCase();
  if (name in LEVEL_VALUES) return name as keyof typeof LEVEL_VALUES;
  if (integers && /^\d+$/.test(raw) && Number(raw) > 0 && Number(raw) <= 127) return -Number(raw);
  const names = Object.keys(LEVEL_VALUES).join(", ");
  throw new UsageError(
    `--${flag} must be one of ${names}${integers ? " or an integer > 0" : ""}, got "${raw}"`,
  );
}

/** `--zap-encoder` (json, console) or its alias `--log-format` (json, text). */
function parseEncoder(
  encoder: string | undefined,
  format: string | undefined,
): "json" | "console" | undefined {
  if (encoder !== undefined && encoder !== "json" && encoder !== "console") {
    throw new UsageError(`--zap-encoder must be json or console, got "${encoder}"`);
  }
  if (format !== undefined && format !== "json" && format !== "text") {
    throw new UsageError(`--log-format must be json or text, got "${format}"`);
  }
  const alias = format === "text" ? "console" : format;
  if (encoder !== undefined && alias !== undefined && encoder !== alias) {
    throw new UsageError(`--zap-encoder=${encoder} contradicts --log-format=${format}`);
  }
  return encoder ?? alias;
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
