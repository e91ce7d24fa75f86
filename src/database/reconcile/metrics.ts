/**
 * The course's Database metrics, same names, labels and meaning:
 *
 * - `database_reconcile_total{result}` and `database_reconcile_duration_seconds{result}`, with
 *   `result` one of `success`, `error` (the reconcile threw) or `requeue` (it asked to be run
 *   again, now or after a delay).
 * - `database_resources{phase}` and `database_info{name,namespace,image,phase}`, computed
 *   from the informer cache at scrape time, so they are exact at every scrape and a deleted
 *   Database, or one whose image or phase changed, leaves no stale series behind. A Database
 *   the operator has not given a status yet counts as `Pending`, the course's first phase.
 *
 * @module
 */
import client from "prom-client";
import type { Reconciler } from "../../runtime/controller/mod.ts";
import type { ReadonlyStore } from "../../runtime/cache/mod.ts";
import { type Database, PHASES } from "../api/mod.ts";
import { registerBackupMetrics } from "./backup_metrics.ts";

/** Values of the `result` label. */
export const RECONCILE_RESULTS = ["success", "error", "requeue"] as const;

/** The Database metrics in one registry. Constructing it registers them. */
export class DatabaseMetrics {
  readonly #reconciles;
  readonly #duration;

  /** `databases` is read on every scrape. */
  constructor(registry: client.Registry, databases: ReadonlyStore<Database>) {
    const registers = [registry];
    this.#reconciles = new client.Counter({
      name: "database_reconcile_total",
      help: "Total number of Database reconciliations by result",
      labelNames: ["result"] as const,
      registers,
    });
    this.#duration = new client.Histogram({
      name: "database_reconcile_duration_seconds",
      help: "Duration of Database reconciliations in seconds by result",
      labelNames: ["result"] as const,
      // Prometheus' default buckets (client_golang's DefBuckets), which the course used.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    registerBackupMetrics(registry, databases);
    // Zero series from the start, so rate() sees the first error as an increase.
    for (const result of RECONCILE_RESULTS) this.#reconciles.inc({ result }, 0);
    new client.Gauge({
      name: "database_resources",
      help: "Number of Database resources by phase",
      labelNames: ["phase"] as const,
      registers,
      collect() {
        const counts = new Map<string, number>(PHASES.map((phase) => [phase, 0]));
        for (const db of databases.list()) {
          const phase = phaseOf(db);
          counts.set(phase, (counts.get(phase) ?? 0) + 1);
        }
        this.reset();
        for (const [phase, count] of counts) this.set({ phase }, count);
      },
    });
    new client.Gauge({
      name: "database_info",
      help: "Information about each Database; always 1",
      labelNames: ["name", "namespace", "image", "phase"] as const,
      registers,
      collect() {
        this.reset();
        for (const db of databases.list()) {
          this.set({
            name: db.metadata.name ?? "",
            namespace: db.metadata.namespace ?? "",
            image: db.spec?.image ?? "",
            phase: phaseOf(db),
          }, 1);
        }
      },
    });
  }

  /** Wraps `reconcile` so every run is counted and timed; results and errors pass through. */
  instrument(reconcile: Reconciler): Reconciler {
    return async (request, signal) => {
      const started = performance.now();
      let result: typeof RECONCILE_RESULTS[number] = "error";
      try {
        const outcome = await reconcile(request, signal);
        result = outcome?.requeue || (outcome?.requeueAfterMs ?? 0) > 0 ? "requeue" : "success";
        return outcome;
      } finally {
        this.#reconciles.inc({ result });
        this.#duration.observe({ result }, (performance.now() - started) / 1000);
      }
    };
  }
}

function phaseOf(db: Database): string {
  return db.status?.phase ?? "Pending";
}
