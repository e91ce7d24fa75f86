import assert from "node:assert/strict";
import { parseClusterArgs } from "../../tools/cluster_args.ts";

Deno.test("parseClusterArgs() reads --real-nodes N in both spellings, --real-node and --object-store", () => {
  assert.deepEqual(parseClusterArgs(["--", "--real-nodes", "2", "--object-store", "-x"]), {
    realNodes: 2,
    objectStore: true,
    rest: ["-x"],
  });
  assert.equal(parseClusterArgs(["--real-nodes=3"]).realNodes, 3);
  assert.equal(parseClusterArgs(["--real-node"]).realNodes, 1);
  assert.deepEqual(parseClusterArgs([]), { realNodes: 0, objectStore: false, rest: [] });
});

Deno.test("parseClusterArgs() refuses a count outside 1..3 and a store without nodes", () => {
  for (
    const bad of [["--real-nodes", "4"], ["--real-nodes=0"], ["--real-nodes"], ["--real-nodes=x"]]
  ) {
    assert.throws(() => parseClusterArgs(bad), /--real-nodes takes 1 to 3/);
  }
  assert.throws(() => parseClusterArgs(["--object-store"]), /needs real nodes/);
});
