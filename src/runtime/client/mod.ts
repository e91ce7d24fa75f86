/**
 * Talking to the API server: finding the cluster (kubeconfig, in-cluster), credentials (tokens,
 * exec plugins, client certificates), the REST client with its rate limit, resource paths and
 * server-side apply against the cache.
 *
 * @module
 */
export * from "./apply.ts";
export * from "./kube_client.ts";
export * from "./api_error.ts";
export * from "./client_options.ts";
export * from "./kubeconfig.ts";
export * from "./managed_fields.ts";
export * from "./resource.ts";
