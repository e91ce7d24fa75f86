/**
 * Who may connect, and how: the operator's `pg_hba.conf`, the same for every Database with TLS.
 * It is a key of the credentials Secret, mounted beside the certificate and named by
 * `hba_file`, so the rules are in force from a server's very first start, whatever the image
 * wrote into its data directory. Over the network only TLS (`hostssl`) with a password
 * (SCRAM); a plaintext client (`sslmode=disable`) matches no line and is refused. The socket
 * inside the pod stays `trust`, as initdb makes it and the image's scripts expect.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The rules, first match wins. */
export const PG_HBA =
  `# Managed by postgres-operator (the Database's credentials Secret): TLS for every network
# connection, SCRAM passwords; the pod's own socket as initdb makes it.
local   all          all                          trust
hostssl replication  streaming_replica  all       scram-sha-256
hostssl all          all                all       scram-sha-256
`;

/** A short digest of {@linkcode PG_HBA}: a pod annotation, so a change of rules rolls the pods. */
export const PG_HBA_DIGEST = createHash("sha256").update(PG_HBA).digest("hex").slice(0, 12);
