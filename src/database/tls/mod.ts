/**
 * TLS for every connection to a Database: the operator's CA (`certificate_authority.ts`), the
 * names a server certificate covers (`server_names.ts`), and issuing and renewing it
 * (`server_certificate.ts`); the credentials room stores it, the instances room mounts it.
 *
 * @module
 */
export * from "./certificate_authority.ts";
export * from "./server_names.ts";
export * from "./server_certificate.ts";
export * from "./pg_hba.ts";
export * from "./tls_volume.ts";
