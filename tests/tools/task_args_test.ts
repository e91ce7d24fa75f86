import assert from "node:assert/strict";
import { readTaskArgs, type TaskSpec, taskUsage } from "../../tools/task_args.ts";

const REPO = new URL("../../", import.meta.url).pathname;

const SPEC: TaskSpec = {
  task: "bench:x",
  summary: "measures x",
  options: {
    count: { type: "string", default: "50", value: "N", help: "Databases" },
    "no-peer": { type: "boolean", default: false, help: "without the peer" },
  },
};

Deno.test("readTaskArgs() takes deno task's leading --, --help anywhere, and names a wrong argument", () => {
  assert.deepEqual(readTaskArgs(SPEC, ["--", "--count", "7", "--no-peer"]), {
    values: { count: "7", "no-peer": true },
  });
  assert.deepEqual(readTaskArgs(SPEC, []), { values: { count: "50", "no-peer": false } });
  assert.equal(readTaskArgs(SPEC, ["--count", "7", "-h"]), "help");
  assert.throws(() => readTaskArgs(SPEC, ["--kubeconfig", "x"]), /Unknown option '--kubeconfig'/);
  assert.throws(() => readTaskArgs(SPEC, ["stray"]), /Unexpected argument 'stray'/);
  assert.throws(() => readTaskArgs(SPEC, ["--count"]), /--count/);
  const usage = taskUsage(SPEC);
  assert.match(usage, /^usage: deno task bench:x \[options\]\n {2}measures x\n/);
  assert.match(usage, /--count N {2}Databases \(default 50\)/);
  assert.match(usage, /--no-peer {2}without the peer\n/);
});

Deno.test("Every task of deno.json answers --help with its usage and exit 0, and does nothing else", async () => {
  const tasks = Object.keys(JSON.parse(await Deno.readTextFile(`${REPO}deno.json`)).tasks);
  // `test` and `check` are Deno's own commands (deno test, deno fmt/lint/check).
  const ours = tasks.filter((t) => t !== "test" && t !== "check");
  const before = await status();
  const problems: string[] = [];
  await Promise.all(ours.map(async (task) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", task, "--help"],
      cwd: REPO,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (out.code !== 0 || !/usage/i.test(text)) {
      problems.push(`${task}: exit ${out.code}: ${text}${new TextDecoder().decode(out.stderr)}`);
    }
  }));
  assert.deepEqual(problems, []);
  assert.equal(await status(), before, "no task changed a file");
});

async function status(): Promise<string> {
  const out = await new Deno.Command("git", { args: ["-C", REPO, "status", "--porcelain"] })
    .output();
  return new TextDecoder().decode(out.stdout);
}
