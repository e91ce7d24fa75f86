import type { Database } from "../../../src/database/api/mod.ts";
import assert from "node:assert/strict";
import {
  type ContainerStatus,
  type Pod,
  podProblem,
  streamingStandbys,
} from "../../../src/database/instances/pod_health.ts";

function pod(name: string, status: Pod["status"]): Pod {
  return { metadata: { name, namespace: "ns", labels: { database: "db" } }, status };
}

const crashed = { terminated: { exitCode: 1, reason: "Error", message: "data is from 15" } };

Deno.test("podProblem() reports an image that cannot be pulled with the kubelet's message", () => {
  const init: ContainerStatus = {
    name: "sync-credentials",
    state: {
      waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "postgres:14"' },
    },
  };
  assert.deepEqual(podProblem([pod("db-0", { initContainerStatuses: [init] })]), {
    reason: "ImagePullBackOff",
    message: 'The container sync-credentials of pod db-0: Back-off pulling image "postgres:14"',
  });
});

Deno.test("podProblem() reports a crash loop in every phase of it, with the termination message", () => {
  const phases: ContainerStatus[] = [
    {
      name: "c",
      restartCount: 2,
      state: { waiting: { reason: "CrashLoopBackOff" } },
      lastState: crashed,
    },
    { name: "c", restartCount: 2, state: crashed },
    { name: "c", restartCount: 2, ready: false, state: {}, lastState: crashed },
  ];
  for (const status of phases) {
    assert.deepEqual(podProblem([pod("db-0", { initContainerStatuses: [status] })]), {
      reason: "CrashLoopBackOff",
      message: "The container c of pod db-0 keeps failing (exit code 1): data is from 15",
    });
  }
});

Deno.test("podProblem() is quiet about a container that succeeded after failing, and a healthy pod", () => {
  const recovered: ContainerStatus = {
    name: "c",
    ready: true,
    restartCount: 1,
    state: { terminated: { exitCode: 0 } },
    lastState: crashed,
  };
  const running: ContainerStatus = { name: "postgres", ready: true, restartCount: 0, state: {} };
  assert.equal(
    podProblem([pod("db-0", { initContainerStatuses: [recovered], containerStatuses: [running] })]),
    undefined,
  );
});

Deno.test("podProblem() reports an unschedulable pod first, by pod name order", () => {
  const problem = podProblem([
    pod("db-1", { conditions: [{ type: "PodScheduled", status: "True" }] }),
    pod("db-0", {
      conditions: [{
        type: "PodScheduled",
        status: "False",
        reason: "Unschedulable",
        message: "pod has unbound immediate PersistentVolumeClaims",
      }],
    }),
  ]);
  assert.deepEqual(problem, {
    reason: "Unschedulable",
    message: "Pod db-0: pod has unbound immediate PersistentVolumeClaims",
  });
});

Deno.test("streamingStandbys() counts ready pods other than the primary", () => {
  const ready = { conditions: [{ type: "Ready", status: "True" }] };
  const notReady = { conditions: [{ type: "Ready", status: "False" }] };
  const db = { metadata: { name: "db" } } as Database;
  assert.equal(
    streamingStandbys(db, [pod("db-0", ready), pod("db-1", ready), pod("db-2", notReady)]),
    1,
  );
  // The primary is a fact in status, not an ordinal.
  const failedOver = { ...db, status: { currentPrimary: "db-1" } } as Database;
  assert.equal(
    streamingStandbys(failedOver, [pod("db-0", ready), pod("db-1", ready), pod("db-2", ready)]),
    2,
  );
});
