/**
 * Time and its rates: the injectable clock, abortable delays, jittered exponential backoff, and
 * the token bucket (`golang.org/x/time/rate`) behind the API client's limit and the queue's
 * bucket limiter.
 *
 * @module
 */
export * from "./backoff.ts";
export * from "./clock.ts";
export * from "./delay.ts";
export * from "./token_bucket.ts";
export * from "./timeout_signal.ts";
