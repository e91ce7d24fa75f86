/**
 * `deno task node` without a cluster: usage and "not running" exit 2 with one line. With a
 * running cluster it is tested in `tests/testenv/real_nodes_test.ts`.
 */
import assert from "node:assert/strict";
import { nodeCommand } from "../../tools/node.ts";

async function capture(args: string[], env: Record<string, string>) {
  const lines: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = console.error = (line: string) => lines.push(line);
  try {
    return { code: await nodeCommand(args, env), lines };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

Deno.test("deno task node: usage errors exit 2 with the usage line", async () => {
  for (const args of [[], ["fail"], ["list", "x"], ["explode", "n"], ["fail", "a", "b"]]) {
    const { code, lines } = await capture(args, { KUBECONFIG: "/nowhere/kubeconfig" });
    assert.equal(code, 2, args.join(" "));
    assert.deepEqual(lines, [
      "deno task node: usage: deno task node fail|partition|restore NODE | deno task node list",
    ]);
  }
  assert.equal((await capture(["--help"], {})).code, 0);
});

Deno.test("deno task node: no KUBECONFIG, or no cluster behind it, exits 2 saying so", async () => {
  const unset = await capture(["list"], {});
  assert.equal(unset.code, 2);
  assert.match(unset.lines[0]!, /KUBECONFIG is not set/);
  const dir = await Deno.makeTempDir();
  try {
    const none = await capture(["--", "fail", "real-node"], { KUBECONFIG: `${dir}/kubeconfig` });
    assert.equal(none.code, 2);
    assert.match(none.lines[0]!, /^deno task node: no running cluster with real nodes at /);
    assert.equal(none.lines.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
