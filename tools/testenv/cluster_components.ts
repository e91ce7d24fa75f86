/**
 * The command lines of the cluster-mode components besides the API server:
 * kube-controller-manager, kube-scheduler and KWOK, and the objects the harness adds (KWOK's
 * fake Nodes, the default StorageClass).
 *
 * @module
 */
import { LOCAL_PATH_PROVISIONER } from "./node/local_volumes.ts";

/** kube-controller-manager's client limits and StatefulSet workers (its defaults 20/30/5). */
export interface ControllerManagerOptions {
  qps?: number;
  burst?: number;
  statefulSetSyncs?: number;
}

/** What every cluster runs: garbage collection, StatefulSets, namespaces and volumes. */
const CONTROLLERS = [
  "garbage-collector-controller",
  "statefulset-controller",
  "persistentvolume-binder-controller",
  "persistentvolume-expander-controller",
  "namespace-controller",
  "node-lifecycle-controller",
  "persistentvolume-protection-controller",
  "persistentvolumeclaim-protection-controller",
];

/**
 * What a real node adds: Services route (EndpointSlices), pods get their ServiceAccount's
 * token and the cluster CA, Deployments run (the operator's own manifests), Jobs run (a
 * Backup's).
 */
const REAL_NODE_CONTROLLERS = [
  "endpointslice-controller",
  "endpointslice-mirroring-controller",
  "serviceaccount-controller",
  "root-ca-certificate-publisher-controller",
  "deployment-controller",
  "replicaset-controller",
  "disruption-controller",
  "pod-garbage-collector-controller",
  "job-controller",
  "ttl-after-finished-controller",
];

/** kube-controller-manager's flags. */
export function controllerManagerArgs(
  kubeconfig: string,
  caFile: string,
  realNode: boolean,
  options: ControllerManagerOptions = {},
): string[] {
  const controllers = realNode ? [...CONTROLLERS, ...REAL_NODE_CONTROLLERS] : CONTROLLERS;
  return [
    `--kubeconfig=${kubeconfig}`,
    `--controllers=${controllers.join(",")}`,
    `--root-ca-file=${caFile}`,
    "--enable-hostpath-provisioner=true",
    "--leader-elect=false",
    "--use-service-account-credentials=false",
    "--secure-port=0",
    `--kube-api-qps=${options.qps ?? 20}`,
    `--kube-api-burst=${options.burst ?? 30}`,
    `--concurrent-statefulset-syncs=${options.statefulSetSyncs ?? 5}`,
  ];
}

/** kube-scheduler's flags (its default client limits 50/100). */
export function schedulerArgs(kubeconfig: string, qps = 50, burst = 100): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    "--leader-elect=false",
    "--secure-port=0",
    `--kube-api-qps=${qps}`,
    `--kube-api-burst=${burst}`,
  ];
}

/** KWOK's flags: it manages only the fake Nodes, never a real one. */
export function kwokArgs(kubeconfig: string, kwokModuleDir: string): string[] {
  const stages = `${kwokModuleDir}/kustomize/stage`;
  // No --server-address: KWOK's server (logs, exec, metrics) is unused here, and starting it
  // builds a CEL environment that races with the first Node's stage (kwok v0.8.0 dies with
  // "fatal error: concurrent map writes" in easycel, about one start in fifteen here).
  return [
    `--kubeconfig=${kubeconfig}`,
    "--manage-all-nodes=false",
    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    "--cidr=10.244.0.0/16",
    // Heartbeats through a node Lease, as kwokctl sets up: without them the node lifecycle
    // controller marks the node, and every pod on it, NotReady after its grace period.
    "--node-lease-duration-seconds=40",
    `--config=${stages}/node/fast/node-initialize.yaml`,
    `--config=${stages}/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml`,
    `--config=${stages}/pod/fast/pod-ready.yaml`,
    `--config=${stages}/pod/fast/pod-complete.yaml`,
    `--config=${stages}/pod/fast/pod-delete.yaml`,
  ];
}

/** A KWOK Node, marked for KWOK by its annotation. */
export function fakeNode(name: string): Record<string, unknown> {
  const resources = { cpu: "256", memory: "1Ti", pods: "5000" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok" },
    },
    status: { allocatable: resources, capacity: resources, nodeInfo: { kubeletVersion: "fake" } },
  };
}

/**
 * The default StorageClass `standard` (kind's name): with real nodes, served by their
 * node-local provisioner (`node/local_volumes.ts`, volumes bound to a node as kind's
 * local-path makes them); otherwise by kube-controller-manager's host-path provisioner.
 */
export function standardStorageClass(realNodes: boolean): Record<string, unknown> {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name: "standard",
      annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
    },
    provisioner: realNodes ? LOCAL_PATH_PROVISIONER : "kubernetes.io/host-path",
    reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer",
  };
}
