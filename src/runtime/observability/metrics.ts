/**
 * The runtime's Prometheus metrics, with controller-runtime's names, labels and buckets so that
 * existing dashboards and alerts work unchanged. One registry per process.
 *
 * @module
 */
import client from "prom-client";
import type { WorkQueueMetrics } from "../queue/mod.ts";

/** controller-runtime's `controller_runtime_reconcile_time_seconds` buckets. */
const RECONCILE_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.15,
  0.2,
  0.25,
  0.3,
  0.35,
  0.4,
  0.45,
  0.5,
  0.6,
  0.7,
  0.8,
  0.9,
  1.0,
  1.25,
  1.5,
  1.75,
  2.0,
  2.5,
  3.0,
  3.5,
  4.0,
  4.5,
  5,
  6,
  7,
  8,
  9,
  10,
  15,
  20,
  25,
  30,
  40,
  50,
  60,
];
/** client-go / controller-runtime work-queue buckets: 10ns × 10^k, 12 of them. */
const QUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 10e-9 * 10 ** i);

/** Every metric of the generic runtime, registered in one registry. */
export class RuntimeMetrics {
  readonly registry: client.Registry = new client.Registry();
  readonly reconcileTotal;
  readonly reconcileErrors;
  readonly terminalReconcileErrors;
  readonly reconcileTime;
  readonly maxConcurrentReconciles;
  readonly activeWorkers;
  readonly restClientRequests;
  readonly leaderElectionStatus;
  readonly #queue;
  readonly #inFlight = new Map<string, () => { totalSeconds: number; longestSeconds: number }>();

  constructor() {
    const registers = [this.registry];
    this.reconcileTotal = new client.Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"] as const,
      registers,
    });
    this.reconcileErrors = new client.Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"] as const,
      registers,
    });
    this.terminalReconcileErrors = new client.Counter({
      name: "controller_runtime_terminal_reconcile_errors_total",
      help: "Total number of terminal reconciliation errors per controller",
      labelNames: ["controller"] as const,
      registers,
    });
    this.reconcileTime = new client.Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"] as const,
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.maxConcurrentReconciles = new client.Gauge({
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller",
      labelNames: ["controller"] as const,
      registers,
    });
    this.activeWorkers = new client.Gauge({
      name: "controller_runtime_active_workers",
      help: "Number of currently used workers per controller",
      labelNames: ["controller"] as const,
      registers,
    });
    this.restClientRequests = new client.Counter({
      name: "rest_client_requests_total",
      help: "Number of HTTP requests, partitioned by status code, method, and host.",
      labelNames: ["code", "method", "host"] as const,
      registers,
    });
    this.leaderElectionStatus = new client.Gauge({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates " +
        "backup, 1 indicates master. 'name' is the string used to identify the lease. " +
        "Please make sure to group by name.",
      labelNames: ["name"] as const,
      registers,
    });
    const queueLabels = ["name", "controller"] as const;
    this.#queue = {
      depth: new client.Gauge({
        name: "workqueue_depth",
        help: "Current depth of workqueue",
        labelNames: queueLabels,
        registers,
      }),
      adds: new client.Counter({
        name: "workqueue_adds_total",
        help: "Total number of adds handled by workqueue",
        labelNames: queueLabels,
        registers,
      }),
      queueDuration: new client.Histogram({
        name: "workqueue_queue_duration_seconds",
        help: "How long in seconds an item stays in workqueue before being requested",
        labelNames: queueLabels,
        buckets: QUEUE_BUCKETS,
        registers,
      }),
      workDuration: new client.Histogram({
        name: "workqueue_work_duration_seconds",
        help: "How long in seconds processing an item from workqueue takes.",
        labelNames: queueLabels,
        buckets: QUEUE_BUCKETS,
        registers,
      }),
      unfinished: new client.Gauge({
        name: "workqueue_unfinished_work_seconds",
        help: "How many seconds of work has been done that is in progress and hasn't been " +
          "observed by work_duration. Large values indicate stuck threads. One can deduce the " +
          "number of stuck threads by observing the rate at which this increases.",
        labelNames: queueLabels,
        registers,
        collect: () => this.#collectInFlight(),
      }),
      longest: new client.Gauge({
        name: "workqueue_longest_running_processor_seconds",
        help: "How many seconds has the longest running processor for workqueue been running.",
        labelNames: queueLabels,
        registers,
      }),
      retries: new client.Counter({
        name: "workqueue_retries_total",
        help: "Total number of retries handled by workqueue",
        labelNames: queueLabels,
        registers,
      }),
    };
  }

  #collectInFlight(): void {
    for (const [controller, read] of this.#inFlight) {
      const labels = { name: controller, controller };
      const { totalSeconds, longestSeconds } = read();
      this.#queue.unfinished.set(labels, totalSeconds);
      this.#queue.longest.set(labels, longestSeconds);
    }
  }

  /** Hooks for one controller's work queue. */
  workQueue(controller: string): WorkQueueMetrics {
    const labels = { name: controller, controller };
    const q = this.#queue;
    q.depth.set(labels, 0);
    q.adds.inc(labels, 0);
    q.retries.inc(labels, 0);
    return {
      added: () => q.adds.inc(labels),
      depth: (n) => q.depth.set(labels, n),
      gotten: (ms) => q.queueDuration.observe(labels, ms / 1000),
      done: (ms) => q.workDuration.observe(labels, ms / 1000),
      retried: () => q.retries.inc(labels),
    };
  }

  /** Reports a work queue's in-flight work, read at scrape time. */
  unfinishedWork(
    controller: string,
    read: () => { totalSeconds: number; longestSeconds: number },
  ): void {
    this.#inFlight.set(controller, read);
  }
}
