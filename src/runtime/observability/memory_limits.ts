/**
 * The two memory limits an operator process lives under: V8's heap limit (its old generation
 * plus young generation, fixed at start by `--max-old-space-size` and `--max-semi-space-size`)
 * and the container's memory limit (cgroup v2 `memory.max`, or v1 `memory.limit_in_bytes`).
 *
 * V8 does not read cgroups: without `--max-old-space-size` its limit is about 4 GiB whatever the
 * container allows, so in a small container the kernel's OOM killer, not V8's garbage
 * collector, would be the first to act on growth. Deployments therefore derive the old-space
 * limit from the container limit (see README, "Memory"), and the operator logs both limits at
 * start and warns when the heap may outgrow the container.
 *
 * @module
 */
import v8 from "node:v8";
import type { Logger } from "./logger.ts";

/** Where cgroup v2 and v1 publish the container's memory limit, in that order. */
export const CGROUP_MEMORY_LIMIT_FILES = [
  "/sys/fs/cgroup/memory.max",
  "/sys/fs/cgroup/memory/memory.limit_in_bytes",
];

/** A v1 limit this large (the page-rounded maximum of a 64-bit counter) means "no limit". */
const UNLIMITED_V1 = 2 ** 62;

/**
 * The container's memory limit in bytes, or undefined when there is none (or no cgroup file can
 * be read). `read` returns a file's text and throws when it cannot.
 */
export function containerMemoryLimit(
  read: (path: string) => string = Deno.readTextFileSync,
): number | undefined {
  for (const path of CGROUP_MEMORY_LIMIT_FILES) {
    let text: string;
    try {
      text = read(path).trim();
    } catch {
      continue; // Not this cgroup version, not Linux, or not allowed.
    }
    if (text === "max") return undefined;
    const bytes = Number(text);
    return Number.isFinite(bytes) && bytes > 0 && bytes < UNLIMITED_V1 ? bytes : undefined;
  }
  return undefined;
}

/** V8's heap limit and the container's memory limit, in bytes. */
export interface MemoryLimits {
  heapLimitBytes: number;
  containerLimitBytes?: number;
}

/** The limits this process runs under. */
export function memoryLimits(): MemoryLimits {
  const containerLimitBytes = containerMemoryLimit();
  return {
    heapLimitBytes: v8.getHeapStatistics().heap_size_limit,
    ...(containerLimitBytes !== undefined ? { containerLimitBytes } : {}),
  };
}

/**
 * Whether V8's heap limit is clearly not derived from the container's: at least twice the
 * container limit, as V8's default of about 4 GiB is against any container below 2 GiB. (The
 * reported limit is the old-space limit plus the young generation, 96 MiB by default, so a
 * derived limit of 1/2 can still sit a little above the container limit.)
 */
export function heapMayOutgrowContainer(limits: MemoryLimits): boolean {
  return limits.containerLimitBytes !== undefined &&
    limits.heapLimitBytes >= 2 * limits.containerLimitBytes;
}

/**
 * Logs both limits at start; warns when the heap may outgrow the container, naming the flag
 * that lets V8 collect harder before the kernel kills the process.
 */
export function logMemoryLimits(logger: Logger, limits: MemoryLimits = memoryLimits()): void {
  const mib = (bytes: number) => Math.round(bytes / 1048576);
  const container = limits.containerLimitBytes;
  logger.info("Memory limits", {
    heapLimitMiB: mib(limits.heapLimitBytes),
    containerLimitMiB: container === undefined ? "none" : mib(container),
  });
  if (container !== undefined && heapMayOutgrowContainer(limits)) {
    logger.warn(
      "The V8 heap limit is above the container's memory limit, so the kernel, not the " +
        "garbage collector, will act on growth; set DENO_V8_FLAGS=--max-old-space-size=" +
        `${Math.floor(mib(container) / 2)} (1/2 of the limit, as the manifests do)`,
    );
  }
}
