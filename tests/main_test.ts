import assert from "node:assert/strict";
import { VERSION } from "../src/version.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/**
 * Runs main.ts as `deno task start` does, under the `operator` permission set that
 * `deno task compile` bakes into the binary. `--quiet` hides Deno's own notices (such as the one
 * about permission sets in the config file), which the compiled binary does not print.
 */
async function operator(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", `--config=${CONFIG}`, "-P=operator", MAIN, ...args],
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("main.ts --version prints the version and the commit", async () => {
  const { code, stdout, stderr } = await operator("--version");
  assert.equal(code, 0, stderr);
  assert.equal(stdout, `postgres-operator ${VERSION.version} (commit ${VERSION.commit})\n`);
  assert.match(VERSION.version, /^\d+\.\d+\.\d+$/);
  assert.ok(VERSION.commit.length > 0);
});

Deno.test("main.ts --help prints the flags and exits 0", async () => {
  const { code, stdout, stderr } = await operator("--help");
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^Usage: postgres-operator \[flags\]$/m);
  assert.match(stdout, /--leader-elect /);
  assert.equal(stderr, "");
});

Deno.test("main.ts refuses a bad flag with one line and exit status 2", async () => {
  for (const flag of ["--no-such-flag", "--zap-log-level=loud", "--leader-elect=maybe"]) {
    const { code, stdout, stderr } = await operator(flag);
    assert.equal(code, 2, flag);
    assert.equal(stdout, "");
    assert.match(stderr, /^postgres-operator: .+\n$/, flag);
  }
});
