import assert from "node:assert/strict";
import { parse, parseAllDocuments } from "yaml";
import {
  compileArgs,
  DEFAULT_OLD_SPACE_MIB,
  gitCommit,
  parseCompileArgs,
  shippedV8Flags,
  stageSources,
} from "../../tools/compile.ts";

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

Deno.test("The binary is compiled with its V8 flags (a compiled binary ignores DENO_V8_FLAGS), sized for the 256Mi that ships", async () => {
  const args = compileArgs("/stage/main.ts");
  assert.ok(
    args.includes("--v8-flags=--max-old-space-size=128,--optimize-for-size"),
    args.join(" "),
  );
  assert.ok(args.includes("-P=operator") && args.includes("--config=/stage/deno.json"));
  assert.deepEqual(parseCompileArgs(["--", "--commit=abc"]), { commit: "abc", oldSpaceMiB: 128 });
  assert.equal(parseCompileArgs(["--max-old-space-size=256"]).oldSpaceMiB, 256);
  assert.throws(() => parseCompileArgs(["--max-old-space-size=1.5Gi"]), /whole number of MiB/);
  assert.throws(() => parseCompileArgs(["--kubeconfig"]), /unknown argument --kubeconfig/);
  // What ships: the Dockerfile's default, the manifests' and the chart's limits, no env flag.
  const read = (path: string) => Deno.readTextFile(`${REPO}${path}`);
  assert.match(
    await read("Dockerfile"),
    new RegExp(`ARG MAX_OLD_SPACE_MIB=${DEFAULT_OLD_SPACE_MIB}\n`),
  );
  assert.match(await read("Dockerfile"), /--max-old-space-size=\$\{MAX_OLD_SPACE_MIB\}/);
  const deployment = parseAllDocuments(await read("manifests/manager/manager.yaml"))
    .map((d) => d.toJS()).find((o) => o.kind === "Deployment");
  const limit = `${2 * DEFAULT_OLD_SPACE_MIB}Mi`;
  assert.equal(deployment.spec.template.spec.containers[0].resources.limits.memory, limit);
  const values = parse(await read("charts/postgres-operator/values.yaml"));
  assert.equal(values.image.maxOldSpaceMiB, DEFAULT_OLD_SPACE_MIB);
  assert.equal(values.resources.limits.memory, limit);
  for (
    const path of [
      "manifests/manager/manager.yaml",
      "charts/postgres-operator/templates/deployment.yaml",
    ]
  ) {
    assert.doesNotMatch(await read(path), /name: DENO_V8_FLAGS/, path);
  }
  assert.deepEqual(shippedV8Flags(), ["--max-old-space-size=128", "--optimize-for-size"]);
});

Deno.test("deno task compile --help prints its usage; a wrong argument exits 2 naming it", async () => {
  const run = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), { args: ["run", "-A", `${REPO}tools/compile.ts`, ...args] })
      .output();
  const help = await run("--help");
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /--max-old-space-size=MIB/);
  const wrong = await run("--max-old-space-size=x");
  assert.equal(wrong.code, 2);
  assert.match(new TextDecoder().decode(wrong.stderr), /--max-old-space-size=x: the old-space/);
});
