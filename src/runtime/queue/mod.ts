/**
 * The work queue (one worker per key, priorities, delays) and client-go's composable rate
 * limiters.
 *
 * @module
 */
export * from "./rate_limiters.ts";
export * from "./work_queue.ts";
export * from "./work_queue_metrics.ts";
