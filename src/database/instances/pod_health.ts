/**
 * What a Database's pods say about it: the failures a user would otherwise dig out of
 * `kubectl describe pod` (an image that cannot be pulled, a container that keeps crashing and
 * why, a pod no node can take, a volume that is not bound), as one reason and message for the
 * Database's `Degraded` condition.
 *
 * @module
 */
import { projection, type Shape } from "../../runtime/cache/mod.ts";
import type { KubeObject } from "../../runtime/client/mod.ts";
import { type Database, primaryPod } from "../api/mod.ts";

/** A container's state, as much of it as is read here. */
interface ContainerState {
  waiting?: { reason?: string; message?: string };
  terminated?: { reason?: string; message?: string; exitCode?: number };
}

/** A core/v1 Pod, with the fields read here. */
export interface Pod extends KubeObject {
  /** `serviceAccountName`: the Database's own for pods that run the instance manager. */
  spec?: { nodeName?: string; serviceAccountName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

/** One container's status. */
export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
}

/** A problem to report: a `Degraded` reason and its message. */
export interface PodProblem {
  reason: string;
  message: string;
}

/** Name of the index from `namespace/database` to the Database's pods. */
export const DATABASE_POD_INDEX = "database";

/** The index function: pods carry the course's `database: <name>` label. */
export function databaseOfPod(pod: Pod): string[] {
  const name = pod.metadata.labels?.database;
  return name ? [`${pod.metadata.namespace}/${name}`] : [];
}

const CONTAINER_STATUS: Shape = {
  name: true,
  ready: true,
  restartCount: true,
  state: true,
  lastState: true,
};

/** Cache transform of pods: labels, phase, conditions and container states only. */
export const projectPod = projection<Pod>({
  spec: { nodeName: true, serviceAccountName: true },
  status: {
    phase: true,
    podIP: true,
    conditions: [{
      type: true,
      status: true,
      reason: true,
      message: true,
      lastTransitionTime: true,
    }],
    initContainerStatuses: [CONTAINER_STATUS],
    containerStatuses: [CONTAINER_STATUS],
  },
});

/** Waiting reasons that do not fix themselves: the image, the container's config, its start. */
const STUCK = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "CrashLoopBackOff",
]);

/**
 * The first problem among `pods` (by name; init containers before the server), or `undefined`.
 * A crash loop is reported with the container's last exit code and termination message.
 */
export function podProblem(pods: Pod[]): PodProblem | undefined {
  for (const pod of [...pods].sort((a, b) => a.metadata.name! < b.metadata.name! ? -1 : 1)) {
    const name = pod.metadata.name;
    const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
      return { reason: "Unschedulable", message: `Pod ${name}: ${scheduled.message ?? ""}`.trim() };
    }
    const statuses = [
      ...(pod.status?.initContainerStatuses ?? []),
      ...(pod.status?.containerStatuses ?? []),
    ];
    for (const container of statuses) {
      const where = `container ${container.name} of pod ${name}`;
      const waiting = container.state?.waiting;
      if (waiting?.reason && STUCK.has(waiting.reason) && waiting.reason !== "CrashLoopBackOff") {
        return {
          reason: waiting.reason,
          message: `The ${where}: ${waiting.message ?? waiting.reason}`,
        };
      }
      // Between its restarts a failing container shows as waiting (CrashLoopBackOff), as
      // terminated with an error, or running again after one: all the same crash loop.
      const failed = [container.state?.terminated, container.lastState?.terminated]
        .find((t) => t !== undefined && (t.exitCode ?? 0) !== 0);
      const crashing = waiting?.reason === "CrashLoopBackOff" ||
        (failed !== undefined && !container.ready && (container.restartCount ?? 0) > 0);
      if (crashing) {
        const exit = failed?.exitCode !== undefined ? ` (exit code ${failed.exitCode})` : "";
        const why = failed?.message?.trim() || failed?.reason || "";
        return {
          reason: "CrashLoopBackOff",
          message: `The ${where} keeps failing${exit}${why ? `: ${why}` : ""}`,
        };
      }
    }
  }
  return undefined;
}

/**
 * How many standbys stream: ready pods other than the primary (a standby is ready only while
 * its WAL receiver streams; see the readiness probe in `statefulset.ts`).
 */
export function streamingStandbys(db: Database, pods: Pod[]): number {
  return pods.filter((pod) =>
    pod.metadata.name !== primaryPod(db) &&
    pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
  ).length;
}
