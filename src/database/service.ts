/**
 * The Service `<name>` on 5432 in front of the Database's pods; `<name>.<ns>.svc`
 * is the endpoint the status reports.
 *
 * @module
 */
import type { KubeObject } from "../runtime/resource.ts";
import { ownedMetadata, selectorLabels } from "./labels.ts";
import { POSTGRES_PORT } from "./secret.ts";
import type { Database } from "./types.ts";

/** A core/v1 Service. */
export interface Service extends KubeObject {
  spec?: Record<string, unknown>;
}

/** The Service as it should be. */
export function desiredService(db: Database): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(db, db.metadata.name!),
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(db),
      ports: [{
        name: "postgres",
        port: POSTGRES_PORT,
        targetPort: "postgres",
        protocol: "TCP",
      }],
    },
  };
}
