/**
 * What an instance may ask the API server, with standbys: its pod reads its own Database, and
 * nothing else, to learn its role (`instances/instance_manager.sh`). A ServiceAccount, a Role
 * granting `get` on that one Database and their RoleBinding, all named like the Database and
 * owned by it. With `replicas: 1` there is no role to learn and none of them is made.
 *
 * @module
 */
import type { KubeObject, ResourceType } from "../../runtime/client/mod.ts";
import { type Database, GROUP, instanceServiceAccount, ownedMetadata, PLURAL } from "../api/mod.ts";

/** The resource types of the instance's access objects. */
export const ACCESS_TYPES = {
  serviceAccounts: {
    group: "",
    version: "v1",
    kind: "ServiceAccount",
    plural: "serviceaccounts",
    namespaced: true,
  },
  roles: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "Role",
    plural: "roles",
    namespaced: true,
  },
  roleBindings: {
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "RoleBinding",
    plural: "rolebindings",
    namespaced: true,
  },
} as const satisfies Record<string, ResourceType>;

/** The ServiceAccount, Role and RoleBinding of `db`'s instances, in that order. */
export function desiredAccess(db: Database): [KubeObject, KubeObject, KubeObject] {
  const name = instanceServiceAccount(db);
  const account = {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: ownedMetadata(db, name),
    automountServiceAccountToken: false,
  };
  const role = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: ownedMetadata(db, name),
    rules: [{
      apiGroups: [GROUP],
      resources: [PLURAL],
      resourceNames: [db.metadata.name!],
      verbs: ["get"],
    }],
  };
  const binding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: ownedMetadata(db, name),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [{ kind: "ServiceAccount", name, namespace: db.metadata.namespace }],
  };
  return [account, role, binding];
}
