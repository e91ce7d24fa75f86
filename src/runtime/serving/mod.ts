/**
 * What the operator serves: health probes, and the Prometheus metrics endpoint with its
 * TLS certificate and TokenReview/SubjectAccessReview authentication.
 *
 * @module
 */
export * from "./authenticator.ts";
export * from "./certificates.ts";
export * from "./health_server.ts";
export * from "./metrics_server.ts";
