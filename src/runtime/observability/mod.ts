/**
 * Logs (controller-runtime's zap format) and Prometheus metrics (controller-runtime's names).
 *
 * @module
 */
export * from "./log_encoding.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./process_metrics.ts";
export * from "./memory_limits.ts";
