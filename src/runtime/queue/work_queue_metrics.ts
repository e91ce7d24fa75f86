/**
 * The work queue's metric hooks, kept apart from prom-client so the queue has no dependency on
 * it; a later layer implements them as controller-runtime's `workqueue_*` metrics.
 *
 * @module
 */

/**
 * Hooks for controller-runtime's `workqueue_*` metrics. Durations are in milliseconds. The two
 * in-flight gauges come from {@linkcode WorkQueue.unfinishedWork} at scrape time instead.
 */
export interface WorkQueueMetrics {
  /** A key became ready that was not already (`workqueue_adds_total`). */
  added(): void;
  /** The number of ready keys changed to `n` (`workqueue_depth`). */
  depth(n: number): void;
  /**
   * A key was handed out `queuedMs` after it became ready (`workqueue_queue_duration_seconds`).
   */
  gotten(queuedMs: number): void;
  /** A key was done after `workMs` of processing (`workqueue_work_duration_seconds`). */
  done(workMs: number): void;
  /** `addRateLimited` was called (`workqueue_retries_total`). */
  retried(): void;
}

/** Metric hooks that record nothing: the default when no metrics layer is wired. */
export const noopWorkQueueMetrics: WorkQueueMetrics = {
  added() {},
  depth() {},
  gotten() {},
  done() {},
  retried() {},
};
