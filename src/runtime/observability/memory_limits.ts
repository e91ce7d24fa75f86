/**
 * The two memory limits an operator process lives under: V8's heap limit (its old generation
 * plus young generation, fixed at start by `--max-old-space-size` and `--max-semi-space-size`)
 * and the container's memory limit (cgroup v2 `memory.max`, or v1 `memory.limit_in_bytes`).
 *
 * V8 does not read cgroups: without `--max-old-space-size` its limit is about 4 GiB whatever the
 * container allows, so in a small container the kernel's OOM killer, not V8's garbage
 * collector, would be the first to act on growth. The shipped binary is therefore compiled with an
 * old-space limit of 1/2 of the manifests' container limit (a `deno compile`d binary runs with the
 * V8 flags it was built with and ignores `DENO_V8_FLAGS`; see README, "Memory"), and the operator
 * logs both limits at start and warns when the heap may outgrow the container, or when
 * `DENO_V8_FLAGS` asks for a heap limit the process does not have.
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
  /** The process is a `deno compile`d binary (`Deno.build.standalone`). */
  standalone?: boolean;
  /** `DENO_V8_FLAGS`, if set. */
  envV8Flags?: string;
}

/** The limits this process runs under. */
export function memoryLimits(): MemoryLimits {
  const containerLimitBytes = containerMemoryLimit();
  let envV8Flags: string | undefined;
  try {
    envV8Flags = Deno.env.get("DENO_V8_FLAGS");
  } catch {
    // No env permission for it: nothing to compare.
  }
  return {
    heapLimitBytes: v8.getHeapStatistics().heap_size_limit,
    ...(containerLimitBytes !== undefined ? { containerLimitBytes } : {}),
    standalone: Deno.build.standalone === true,
    ...(envV8Flags ? { envV8Flags } : {}),
  };
}

/**
 * The old-space limit (MiB) `DENO_V8_FLAGS` asks for when the heap does not have it: a compiled
 * binary ignores the variable. The heap limit is the old space plus V8's young generation (up to
 * 96 MiB more), so one below the asked old space, or far above it, was not set by it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const MiB = 1048576;
 * const flags = "--max-old-space-size=128,--optimize-for-size";
 * assert.equal(ignoredOldSpaceMiB({ heapLimitBytes: 4192 * MiB, envV8Flags: flags }), 128);
 * assert.equal(ignoredOldSpaceMiB({ heapLimitBytes: 176 * MiB, envV8Flags: flags }), undefined);
 * ```
 */
export function ignoredOldSpaceMiB(limits: MemoryLimits): number | undefined {
  const asked = limits.envV8Flags?.match(/(?:^|,)--max[-_]old[-_]space[-_]size=(\d+)(?:,|$)/);
  if (!asked) return undefined;
  const mib = Number(asked[1]);
  const heapMiB = limits.heapLimitBytes / 1048576;
  return heapMiB < mib || heapMiB > mib + 128 ? mib : undefined;
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
  const ignored = ignoredOldSpaceMiB(limits);
  if (ignored !== undefined) {
    logger.warn(
      `DENO_V8_FLAGS asks for a ${ignored} MiB old space, but the heap limit is ` +
        `${mib(limits.heapLimitBytes)} MiB: ` +
        (limits.standalone
          ? "a compiled binary ignores DENO_V8_FLAGS and runs with the V8 flags it was built " +
            "with (deno task compile --max-old-space-size, Docker MAX_OLD_SPACE_MIB)"
          : "V8 did not take it"),
    );
  }
  if (container !== undefined && heapMayOutgrowContainer(limits)) {
    const half = Math.floor(mib(container) / 2);
    logger.warn(
      "The V8 heap limit is above the container's memory limit, so the kernel, not the " +
        "garbage collector, will act on growth; " +
        (limits.standalone
          ? `build the binary with --max-old-space-size=${half} (deno task compile; Docker ` +
            `--build-arg MAX_OLD_SPACE_MIB=${half})`
          : `run it with --v8-flags=--max-old-space-size=${half}`) +
        ", 1/2 of the limit, as the shipped image is built for its 256Mi",
    );
  }
}
