import assert from "node:assert/strict";
import { gitCommit, stageSources } from "../../tools/compile.ts";

const REPO = new URL("../../", import.meta.url).pathname;

Deno.test("stageSources() stamps the commit into a copy that --version reports", async () => {
  const before = await Deno.readTextFile(`${REPO}src/commit.json`);
  const dir = await Deno.makeTempDir({ prefix: "compile-test-" });
  try {
    const main = await stageSources("0123456789ab-test", dir);
    // Exactly what `deno task compile` compiles: the copy's main.ts with its deno.json.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", `--config=${dir}/deno.json`, "-P=operator", main, "--version"],
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(new TextDecoder().decode(out.stdout), /\(commit 0123456789ab-test\)\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(await Deno.readTextFile(`${REPO}src/commit.json`), before, "sources untouched");
  assert.deepEqual(JSON.parse(before), { commit: "development" });
});

Deno.test("gitCommit() names HEAD, marks changes as -dirty, and is unknown outside git", async () => {
  const dir = await Deno.makeTempDir({ prefix: "compile-test-" });
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", {
      args: ["-C", dir, "-c", "user.name=test", "-c", "user.email=test@example.com", ...args],
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
  };
  try {
    assert.equal(await gitCommit(dir), "unknown");
    await git("init", "--quiet");
    await Deno.writeTextFile(`${dir}/file`, "one");
    await git("add", "file");
    await git("commit", "--quiet", "-m", "one");
    const clean = await gitCommit(dir);
    assert.match(clean, /^[0-9a-f]{12}$/);
    await Deno.writeTextFile(`${dir}/file`, "two");
    assert.equal(await gitCommit(dir), `${clean}-dirty`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
