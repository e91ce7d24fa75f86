/**
 * Labels and owner references shared by every object made for a Database.
 *
 * @module
 */
import type { OwnerReference } from "../../runtime/client/mod.ts";
import { API_VERSION, type Database, KIND } from "./types.ts";

/** The field manager of every write the operator sends. */
export const FIELD_MANAGER = "postgres-operator";
/** Label that marks the operator's objects; owned-object informers watch only these. */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "postgres-operator";

/** The label the operator keeps on each pod: `primary` (`status.currentPrimary`) or `replica`. */
export const ROLE_LABEL = "database.example.com/role";

/** The course's selector labels; scripts written for it select pods with them. */
export function selectorLabels(db: Database): Record<string, string> {
  return { app: "database", database: db.metadata.name! };
}

/** Selector labels plus the recommended `app.kubernetes.io/*` labels. */
export function labels(db: Database): Record<string, string> {
  return {
    ...selectorLabels(db),
    "app.kubernetes.io/name": "postgresql",
    "app.kubernetes.io/instance": db.metadata.name!,
    [MANAGED_BY_LABEL]: MANAGED_BY,
    "app.kubernetes.io/part-of": "postgres-operator",
  };
}

/** Makes the Database the controller owner, so garbage collection removes the object with it. */
export function ownerReference(db: Database): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: db.metadata.name!,
    uid: db.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata of an owned object named `name`. */
export function ownedMetadata(db: Database, name: string) {
  return {
    name,
    namespace: db.metadata.namespace!,
    labels: labels(db),
    ownerReferences: [ownerReference(db)],
  };
}
