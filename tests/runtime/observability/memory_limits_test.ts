import assert from "node:assert/strict";
import {
  CGROUP_MEMORY_LIMIT_FILES,
  containerMemoryLimit,
  heapMayOutgrowContainer,
  ignoredOldSpaceMiB,
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
  assert.match(logged[1].msg, /--v8-flags=--max-old-space-size=128,/);
  lines.length = 0;
  logMemoryLimits(logger, { ...small, standalone: true });
  assert.match(JSON.parse(lines[1]!).msg, /MAX_OLD_SPACE_MIB=128\)/);
});

Deno.test("logMemoryLimits() says when DENO_V8_FLAGS asked for a heap limit the process lacks", () => {
  const lines: string[] = [];
  const logger = new Logger({ format: "json", write: (line: string) => lines.push(line) });
  const MiB = 1048576;
  const envV8Flags = "--max-old-space-size=128,--optimize-for-size";
  // A compiled binary with no flags compiled in: V8's default, DENO_V8_FLAGS ignored.
  logMemoryLimits(logger, { heapLimitBytes: 4192 * MiB, standalone: true, envV8Flags });
  const warned = lines.map((line) => JSON.parse(line)).filter((l) => l.level === "warn");
  assert.equal(warned.length, 1);
  assert.match(
    warned[0].msg,
    /asks for a 128 MiB old space, but the heap limit is 4192 MiB: a compiled binary ignores DENO_V8_FLAGS/,
  );
  // Taken: 128 MiB of old space and V8's young generation.
  assert.equal(ignoredOldSpaceMiB({ heapLimitBytes: 176 * MiB, envV8Flags }), undefined);
  assert.equal(
    ignoredOldSpaceMiB({ heapLimitBytes: 176 * MiB, envV8Flags: "--optimize-for-size" }),
    undefined,
  );
  assert.equal(ignoredOldSpaceMiB({ heapLimitBytes: 64 * MiB, envV8Flags }), 128);
});

Deno.test("This process has the heap limit its DENO_V8_FLAGS asked for, when it ran with them", () => {
  // `deno run` reads DENO_V8_FLAGS: the check above agrees with V8 about a real process.
  const out = new Deno.Command(Deno.execPath(), {
    args: ["eval", "import v8 from 'node:v8'; console.log(v8.getHeapStatistics().heap_size_limit)"],
    env: { DENO_V8_FLAGS: "--max-old-space-size=128,--optimize-for-size" },
  }).outputSync();
  const heapLimitBytes = Number(new TextDecoder().decode(out.stdout));
  assert.ok(heapLimitBytes > 0);
  const envV8Flags = "--max-old-space-size=128,--optimize-for-size";
  assert.equal(ignoredOldSpaceMiB({ heapLimitBytes, envV8Flags }), undefined);
  assert.equal(
    ignoredOldSpaceMiB({ heapLimitBytes, envV8Flags: "--max-old-space-size=1024" }),
    1024,
  );
});
