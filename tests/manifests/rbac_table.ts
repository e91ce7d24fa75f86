/**
 * The permissions the operator's code needs, written down independently of the YAML: each entry
 * names the call behind it. `manifests_test.ts` requires the Roles in `manifests/rbac` to grant
 * exactly these, so a verb added to the YAML without code that uses it fails, and so does code
 * that starts calling something new without a matching grant (the in-cluster run sees the 403).
 *
 * Keys are `group/resource`, with an empty group for the core API.
 *
 * @module
 */

/** A Role or ClusterRole rule. */
export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** `group/resource` → sorted verbs. */
export type Table = Record<string, string[]>;

/** ClusterRole `manager-role`: the Database controller, in every namespace. */
export const MANAGER_ROLE: Table = {
  // Informers (src/runtime/cache/watcher.ts): list, then watch. src/database/reconcile/reconciler.ts
  // #releaseFinalizer: merge patch that drops the old course finalizer.
  // get: src/database/ha/instance_access.ts grants the instances get on their Database, and
  // RBAC lets a Role grant only what its creator holds.
  "database.example.com/databases": ["get", "list", "patch", "watch"],
  // reconciler.ts #writeStatus: merge patch of the status subresource; ha/ensure_primary.ts
  // patchPrimary: currentPrimary and targetPrimary, guarded by resourceVersion.
  "database.example.com/databases/status": ["patch"],
  // src/database/api/labels.ts ownerReference sets blockOwnerDeletion; with the
  // OwnerReferencesPermissionEnforcement admission plugin that needs update on the owner's
  // finalizers whenever an owned object is created.
  "database.example.com/databases/finalizers": ["update"],
  // reconciler.ts #ensureSecret: POST, GET after a 409 (created before the cache saw it),
  // then server-side apply (PATCH); informer list and watch.
  "/secrets": ["create", "get", "list", "patch", "watch"],
  // reconciler.ts #live: GET on a cache miss (whose object is it? what is its immutable
  // template?); #ensure: server-side apply (PATCH), authorized as create when the object does
  // not exist yet; informers list and watch; #removeReadOnlyService deletes `<name>-ro` when
  // replicas go back to 1.
  "/services": ["create", "delete", "get", "list", "patch", "watch"],
  // src/database/instances/pod_health.ts: the Database's pods, cached to report their failures;
  // reconciler.ts #labelRoles: merge patch of the role label.
  // ha/ensure_primary.ts roll: with standbys the StatefulSet is OnDelete, and the operator
  // deletes one outdated pod at a time (standbys first, the primary after a switchover).
  "/pods": ["delete", "list", "patch", "watch"],
  // #ensureStatefulSet: an earlier version's StatefulSet is deleted (orphaning its pods) and
  // made again with its governing Service; GET on a cache miss.
  "apps/statefulsets": ["create", "delete", "get", "list", "patch", "watch"],
  // src/database/instances/storage.ts growVolumes: list the Database's PVCs, merge patch their size;
  // createMissingClaims: POST the claims of new ordinals at the grown size.
  "/persistentvolumeclaims": ["create", "list", "patch"],
  // storage.ts allowsExpansion: GET one StorageClass.
  "storage.k8s.io/storageclasses": ["get"],
  // src/database/ha/ensure_ha_objects.ts (with standbys): the instances' ServiceAccount, Role
  // and RoleBinding and the primary's PodDisruptionBudget: POST, GET after a 409, server-side
  // apply, informers; the budget is deleted when replicas go back to 1.
  "/serviceaccounts": ["create", "get", "list", "patch", "watch"],
  "rbac.authorization.k8s.io/roles": ["create", "get", "list", "patch", "watch"],
  "rbac.authorization.k8s.io/rolebindings": ["create", "get", "list", "patch", "watch"],
  "policy/poddisruptionbudgets": ["create", "delete", "get", "list", "patch", "watch"],
  // src/database/ha/node_lease.ts readNodeLease: GET the primary's node Lease in kube-node-lease.
  "coordination.k8s.io/leases": ["get"],
  // node_lease.ts nodeCordoned: GET the primary's node (a drain cordons it first).
  "/nodes": ["get"],
  // src/runtime/controller/events.ts: POST an Event, merge patch the series of a repeated one.
  "events.k8s.io/events": ["create", "patch"],
  // src/database/reconcile/backup_controller.ts: the Backup informer; backup_reconciler.ts
  // patchStatus, and POST of the Backup's Job (owned by it, with blockOwnerDeletion); the Job
  // informer. reconcile/schedule_step.ts: POST of a scheduled Backup, DELETE past retention.
  "database.example.com/backups": ["create", "delete", "list", "watch"],
  "database.example.com/backups/status": ["patch"],
  "database.example.com/backups/finalizers": ["update"],
  // backup_reconciler.ts removeJob: the finished Job, once its outcome is in the status.
  "batch/jobs": ["create", "delete", "list", "watch"],
};

/** Role `leader-election-role`, in the operator's namespace. */
export const LEADER_ELECTION_ROLE: Table = {
  // src/runtime/leader_election/lease_lock.ts: get, create, update (PUT with resourceVersion), watch.
  "coordination.k8s.io/leases": ["create", "get", "update", "watch"],
  // src/runtime/leader_election/leader_label.ts: merge patch of the leader label on the operator's own pod.
  "/pods": ["patch"],
  // src/database/tls/certificate_authority.ts: the CA Secret beside the Lease, read or made once.
  "/secrets": ["create", "get"],
};

/** ClusterRole `metrics-auth-role`: src/runtime/serving/authenticator.ts reviews each scrape's token. */
export const METRICS_AUTH_ROLE: Table = {
  "authentication.k8s.io/tokenreviews": ["create"],
  "authorization.k8s.io/subjectaccessreviews": ["create"],
};

/** The verbs `rules` grant per resource; throws on rules this table form cannot express. */
export function tableOf(rules: Rule[]): Table {
  const table: Table = {};
  for (const rule of rules) {
    if (rule.resourceNames || rule.nonResourceURLs) {
      throw new Error(`Unexpected rule shape: ${JSON.stringify(rule)}`);
    }
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const verbs = new Set([...(table[`${group}/${resource}`] ?? []), ...(rule.verbs ?? [])]);
        table[`${group}/${resource}`] = [...verbs].sort();
      }
    }
  }
  return table;
}

/** Every `*` in any field of `rules`, as `field: value` strings. */
export function wildcards(rules: Rule[]): string[] {
  return rules.flatMap((rule) =>
    Object.entries(rule).flatMap(([field, values]) =>
      (values as string[]).filter((v) => v.includes("*")).map((v) => `${field}: ${v}`)
    )
  );
}
