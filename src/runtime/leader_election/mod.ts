/**
 * Leader election on a `coordination.k8s.io` Lease (client-go's semantics), and the label that
 * marks the leader's pod.
 *
 * @module
 */
export * from "./leader_election.ts";
export * from "./leader_label.ts";
export * from "./lease_lock.ts";
