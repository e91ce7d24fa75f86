import assert from "node:assert/strict";
import { binaryPath, eventually } from "../../tools/testenv/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("deno task dev runs a cluster whose sample becomes Ready, and Ctrl-C leaves nothing behind", async () => {
  const dev = new Deno.Command(Deno.execPath(), {
    args: ["task", "dev"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  let dir = "";
  try {
    const lines = dev.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let output = "";
    while (!output.includes("Press Ctrl-C")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`deno task dev ended early:\n${output}`);
      output += value;
    }
    lines.releaseLock();
    dev.stdout.cancel().catch(() => {});
    const kubeconfig = output.match(/KUBECONFIG=(\S+)/)?.[1];
    assert.ok(kubeconfig, "the kubeconfig path is printed");
    dir = kubeconfig.slice(0, kubeconfig.lastIndexOf("/"));
    const kubectl = await binaryPath("kubectl");
    const phase = async () => {
      const out = await new Deno.Command(kubectl, {
        args: [
          `--kubeconfig=${kubeconfig}`,
          "get",
          "database",
          "valid-db",
          "-o",
          "jsonpath={.status.phase}",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return new TextDecoder().decode(out.stdout);
    };
    await eventually(async () => (await phase()) === "Ready", "valid-db becomes Ready", {
      timeoutMs: 60_000,
    });
  } finally {
    dev.kill("SIGINT");
    await dev.status;
  }
  // `deno task` may return as soon as it has passed Ctrl-C on; the cleanup it started finishes
  // in the child a moment later, so wait (boundedly) for nothing to be left.
  const leftovers = async () => {
    const out = await new Deno.Command("pgrep", { args: ["-f", dir], stdout: "piped" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  const exists = async () => await Deno.stat(dir).then(() => true, () => false);
  await eventually(
    async () => (await leftovers()) === "" && !(await exists()),
    "no process of the dev cluster and no temporary folder is left",
    { timeoutMs: 30_000, describe: () => dir },
  );
  assert.equal(await leftovers(), "");
  assert.equal(await exists(), false);
});
