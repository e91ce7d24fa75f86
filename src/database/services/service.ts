/**
 * The Services in front of a Database's pods:
 *
 * - `<name>`: read-write, the primary only (`status.currentPrimary`): with standbys by the role
 *   label the operator keeps on each pod (`primary`), with one instance by the pod-name label the
 *   StatefulSet controller puts on every pod; `<name>.<ns>.svc` is the endpoint the status and
 *   the Secret report.
 * - `<name>-ro`: read-only, the standbys that are ready (streaming), by the role label the
 *   operator keeps on each pod; only while `replicas` exceeds 1.
 * - `<name>-pods`: the StatefulSet's headless governing Service, so each pod has a stable name
 *   (`<name>-<ordinal>.<name>-pods.<ns>.svc`), published before it is ready so a standby being
 *   built can reach the primary.
 *
 * @module
 */
import type { KubeObject } from "../../runtime/client/mod.ts";
import {
  type Database,
  ownedMetadata,
  podsServiceName,
  POSTGRES_PORT,
  primaryPod,
  readOnlyServiceName,
  ROLE_LABEL,
  selectorLabels,
} from "../api/mod.ts";

/** A core/v1 Service. */
export interface Service extends KubeObject {
  spec?: Record<string, unknown>;
}

/** The label the StatefulSet controller sets on each pod. */
const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";

const PORTS = [{ name: "postgres", port: POSTGRES_PORT, targetPort: "postgres", protocol: "TCP" }];

/** The read-write Service `<name>`, in front of the primary. */
export function desiredService(db: Database, replicas = 1): Service {
  return clusterIpService(
    db,
    db.metadata.name!,
    replicas > 1 ? { [ROLE_LABEL]: "primary" } : { [POD_NAME_LABEL]: primaryPod(db) },
  );
}

/** The read-only Service `<name>-ro`, in front of the ready standbys. */
export function desiredReadOnlyService(db: Database): Service {
  return clusterIpService(db, readOnlyServiceName(db), { [ROLE_LABEL]: "replica" });
}

function clusterIpService(db: Database, name: string, select: Record<string, string>): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(db, name),
    spec: { type: "ClusterIP", selector: { ...selectorLabels(db), ...select }, ports: PORTS },
  };
}

/** The headless governing Service `<name>-pods`. */
export function desiredPodsService(db: Database): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMetadata(db, podsServiceName(db)),
    spec: {
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: selectorLabels(db),
      ports: PORTS,
    },
  };
}
