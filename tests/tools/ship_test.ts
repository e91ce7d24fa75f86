import assert from "node:assert/strict";

const SHIP = new URL("../../tools/ship.ts", import.meta.url).pathname;

async function ship(task: string, path: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", SHIP, task],
    env: { PATH: path, NO_COLOR: "1" },
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("ship tasks name the missing tool in one line and exit 1", async () => {
  const empty = await Deno.makeTempDir({ prefix: "ship-test-" });
  try {
    for (
      const [task, tool] of [
        ["image", "docker"],
        ["kind:load", "kind"],
        ["deploy", "kubectl"],
        ["undeploy", "kubectl"],
      ]
    ) {
      const { code, stdout, stderr } = await ship(task!, empty);
      assert.equal(code, 1, task);
      assert.equal(stdout, "");
      assert.match(stderr, new RegExp(`^ship: ${tool} is not installed .*https://\\S+\\n$`), task);
    }
  } finally {
    await Deno.remove(empty);
  }
});

Deno.test("ship refuses an unknown task with exit status 2", async () => {
  const { code, stderr } = await ship("publish", "/nonexistent");
  assert.equal(code, 2);
  assert.match(stderr, /^ship: unknown task "publish"/);
});
