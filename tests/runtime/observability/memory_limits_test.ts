import assert from "node:assert/strict";
import {
  CGROUP_MEMORY_LIMIT_FILES,
  containerMemoryLimit,
  heapMayOutgrowContainer,
  Logger,
  logMemoryLimits,
} from "../../../src/runtime/observability/mod.ts";

const [V2, V1] = CGROUP_MEMORY_LIMIT_FILES as [string, string];

/** A file system holding only `files`; other paths throw as a missing file does. */
function files(files: Record<string, string>) {
  return (path: string) => {
    const text = files[path];
    if (text === undefined) throw new Deno.errors.NotFound(path);
    return text;
  };
}

Deno.test("containerMemoryLimit() reads cgroup v2, then v1, and knows their 'no limit'", () => {
  assert.equal(containerMemoryLimit(files({ [V2]: "268435456\n" })), 268435456);
  assert.equal(containerMemoryLimit(files({ [V2]: "max\n" })), undefined);
  assert.equal(containerMemoryLimit(files({ [V1]: "536870912\n" })), 536870912);
  assert.equal(containerMemoryLimit(files({ [V1]: "9223372036854771712\n" })), undefined);
  assert.equal(containerMemoryLimit(files({})), undefined);
});

Deno.test("logMemoryLimits() warns when the heap may outgrow the container, with the flag", () => {
  const lines: string[] = [];
  const logger = new Logger({ format: "json", write: (line: string) => lines.push(line) });
  const MiB = 1048576;
  const small = { heapLimitBytes: 4096 * MiB, containerLimitBytes: 256 * MiB };
  assert.equal(heapMayOutgrowContainer(small), true);
  logMemoryLimits(logger, small);
  // The manifests' 192 MiB old space plus V8's young generation, under their 256 MiB limit.
  assert.equal(
    heapMayOutgrowContainer({ heapLimitBytes: 288 * MiB, containerLimitBytes: 256 * MiB }),
    false,
  );
  assert.equal(heapMayOutgrowContainer({ heapLimitBytes: 4096 * MiB }), false);
  const logged = lines.map((line) => JSON.parse(line));
  assert.equal(logged[0].heapLimitMiB, 4096);
  assert.equal(logged[0].containerLimitMiB, 256);
  assert.equal(logged[1].level, "warn");
  assert.match(logged[1].msg, /DENO_V8_FLAGS=--max-old-space-size=128 /);
});
