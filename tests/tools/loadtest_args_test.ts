import assert from "node:assert/strict";
import { parseLoadtestArgs } from "../../tools/load/loadtest_args.ts";

Deno.test("parseLoadtestArgs() takes the `--` of `deno task loadtest -- …` and the README's flags", () => {
  const options = parseLoadtestArgs([
    "--",
    "--count",
    "200",
    "--max-concurrent-reconciles",
    "4",
    "--kube-api-qps",
    "0",
    "--json",
    "out.json",
  ]);
  assert.notEqual(options, "help");
  if (options === "help") return;
  assert.equal(options.count, 200);
  assert.deepEqual(options.operatorArgs, ["--max-concurrent-reconciles=4", "--kube-api-qps=0"]);
  assert.equal(options.json, "out.json");
  assert.equal(options.restart, true);
  assert.equal(parseLoadtestArgs(["--help"]), "help");
  assert.equal(parseLoadtestArgs(["--", "-h"]), "help");
});

Deno.test("parseLoadtestArgs() refuses unknown flags and bad numbers with one line", () => {
  assert.throws(() => parseLoadtestArgs(["--cuont", "5"]), /Unknown option '--cuont'/);
  assert.throws(() => parseLoadtestArgs(["--count", "many"]), /--count takes a whole number/);
  assert.throws(() => parseLoadtestArgs(["--count", "0"]), /--count takes a whole number/);
});

Deno.test("deno task loadtest --help prints the usage and exits 0", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "loadtest", "--help"],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), /^usage: deno task loadtest/);
});
