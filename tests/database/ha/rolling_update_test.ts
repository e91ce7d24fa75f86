/** nextRollingStep(): standbys first, one at a time, then a switchover, never the primary first. */
import assert from "node:assert/strict";
import { nextRollingStep, type RollingInstance } from "../../../src/database/ha/mod.ts";

const pod = (name: string, revision: string, ready = true): RollingInstance => ({
  name,
  revision,
  ready,
});

Deno.test("nextRollingStep() restarts an outdated standby before anything else", () => {
  const pods = [pod("db-0", "old"), pod("db-1", "old"), pod("db-2", "old")];
  assert.deepEqual(nextRollingStep(pods, "new", "db-0"), { kind: "restart", pod: "db-2" });
});

Deno.test("nextRollingStep() waits until every instance is ready again", () => {
  const pods = [pod("db-0", "old"), pod("db-1", "old"), pod("db-2", "new", false)];
  assert.deepEqual(nextRollingStep(pods, "new", "db-0"), { kind: "none" });
});

Deno.test("nextRollingStep() switches over once only the primary is outdated", () => {
  const pods = [pod("db-0", "new"), pod("db-1", "old"), pod("db-2", "new")];
  assert.deepEqual(nextRollingStep(pods, "new", "db-1"), { kind: "switchover" });
});

Deno.test("nextRollingStep() does nothing when every instance is up to date", () => {
  const pods = [pod("db-0", "new"), pod("db-1", "new")];
  assert.deepEqual(nextRollingStep(pods, "new", "db-0"), { kind: "none" });
  assert.deepEqual(nextRollingStep(pods, undefined, "db-0"), { kind: "none" });
});
