import assert from "node:assert/strict";

const REPO = new URL("../../", import.meta.url).pathname;

Deno.test("deno task controlplane without Go says so in one line, not a stack trace", async () => {
  const cache = await Deno.makeTempDir();
  // The usual Deno cache (its default follows XDG_CACHE_HOME, which the test empties).
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const { denoDir } = JSON.parse(new TextDecoder().decode(info.stdout));
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tools/build_controlplane.ts"],
      cwd: REPO,
      // An empty cache and a PATH with no `go`: the first build needs it.
      env: { PATH: "/nonexistent", XDG_CACHE_HOME: cache, DENO_DIR: denoDir, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
    assert.equal(out.code, 1);
    assert.equal(stderr.length, 1, stderr.join("\n"));
    assert.match(stderr[0]!, /^deno task controlplane: Go 1\.26 is needed to build etcd/);
    assert.match(stderr[0]!, /`go` is not on PATH: install it from https:\/\/go\.dev\/dl/);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
