/** Which restores count as refused: exit code 3 of the restore container, or the status. */
import assert from "node:assert/strict";
import { RESTORE_REFUSED, restoreRefusal } from "../../../src/database/backup/mod.ts";
import type { Database } from "../../../src/database/api/mod.ts";

const restoring = (status?: Database["status"]) =>
  ({
    metadata: { name: "copy", namespace: "default" },
    spec: { restore: { objectStore: {} } },
    ...(status ? { status } : {}),
  }) as unknown as Database;

const restorePod = (exitCode: number, where: "state" | "lastState") => ({
  status: {
    initContainerStatuses: [{
      name: "restore",
      [where]: { terminated: { exitCode, message: "spec.restore.targetTime is too late\n" } },
    }],
  },
});

Deno.test("restoreRefusal(): exit 3 of the restore container, now or before a restart", () => {
  assert.equal(
    restoreRefusal(restoring(), [restorePod(3, "state")]),
    "spec.restore.targetTime is too late",
  );
  assert.equal(
    restoreRefusal(restoring(), [restorePod(3, "lastState")]),
    "spec.restore.targetTime is too late",
  );
});

Deno.test("restoreRefusal(): other failures are retried, and only restores count", () => {
  assert.equal(restoreRefusal(restoring(), [restorePod(1, "state")]), undefined, "a store error");
  const plain = { ...restoring(), spec: {} } as Database;
  assert.equal(restoreRefusal(plain, [restorePod(3, "state")]), undefined);
});

Deno.test("restoreRefusal(): once reported, it stays refused with the pods gone", () => {
  const reported = restoring({
    conditions: [{
      type: "Ready",
      status: "False",
      reason: RESTORE_REFUSED,
      message: "too early",
      lastTransitionTime: "2026-12-07T00:00:00Z",
    }],
  });
  assert.equal(restoreRefusal(reported, []), "too early");
});
