/**
 * A single instance on a lost node: the Lease is read only once the pod that served stops
 * being ready; a stale Lease gives Ready reason NodeLost and one Event.
 */
import assert from "node:assert/strict";
import { loneInstanceProblem } from "../../../src/database/ha/mod.ts";
import type { Database } from "../../../src/database/api/mod.ts";
import type { Pod } from "../../../src/database/instances/mod.ts";

const NOW = Date.parse("2026-12-07T12:00:00Z");
const at = (ms: number) => new Date(ms).toISOString();

function pod(ready: boolean, readySince: number, startedAt: number): Pod {
  return {
    metadata: { name: "solo-0", namespace: "default" },
    spec: { nodeName: "node-b", containers: [] },
    status: {
      conditions: [{
        type: "Ready",
        status: ready ? "True" : "False",
        lastTransitionTime: at(readySince),
      }],
      containerStatuses: [{
        name: "postgres",
        ready,
        restartCount: 0,
        state: { running: { startedAt: at(startedAt) } },
      }],
    },
  } as unknown as Pod;
}

function harness(found: Pod | undefined, renewed: number, db: Partial<Database> = {}) {
  const requests: string[] = [];
  const events: string[] = [];
  const deps = {
    client: {
      request: (_method: string, path: string) => {
        requests.push(path);
        return Promise.resolve({
          spec: { renewTime: at(renewed), leaseDurationSeconds: 40 },
        });
      },
    },
    pods: { store: { get: (key: string) => key === "default/solo-0" ? found : undefined } },
    events: { record: (_db: unknown, _type: string, reason: string) => events.push(reason) },
    now: () => NOW,
  };
  const database = { metadata: { name: "solo", namespace: "default" }, spec: {}, ...db };
  return {
    requests,
    events,
    run: () => loneInstanceProblem(deps as never, database as Database),
  };
}

Deno.test("loneInstanceProblem(): a ready or starting instance costs no request", async () => {
  const ready = harness(pod(true, NOW - 60_000, NOW - 70_000), NOW - 60_000);
  assert.deepEqual(await ready.run(), {});
  const starting = harness(pod(false, NOW - 70_000, NOW - 60_000), NOW - 60_000);
  assert.deepEqual(await starting.run(), {});
  const none = harness(undefined, NOW - 60_000);
  assert.deepEqual(await none.run(), {});
  assert.deepEqual([...ready.requests, ...starting.requests, ...none.requests], []);
});

Deno.test("loneInstanceProblem(): a stale Lease is NodeLost, with one Event", async () => {
  const lost = harness(pod(false, NOW - 5_000, NOW - 600_000), NOW - 45_000);
  const { problem } = await lost.run();
  assert.equal(problem?.reason, "NodeLost");
  assert.match(problem!.message, /solo-0 is on node node-b.*no standby to take over/);
  assert.deepEqual(lost.requests, [
    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-b",
  ]);
  assert.deepEqual(lost.events, ["NodeLost"]);
  const reported = harness(pod(false, NOW - 5_000, NOW - 600_000), NOW - 45_000, {
    status: {
      conditions: [{
        type: "Ready",
        status: "False",
        reason: "NodeLost",
        message: "",
        lastTransitionTime: at(NOW),
      }],
    },
  });
  assert.equal((await reported.run()).problem?.reason, "NodeLost");
  assert.deepEqual(reported.events, [], "said once");
});

Deno.test("loneInstanceProblem(): a fresh Lease is looked at again when it would be lost", async () => {
  const fresh = harness(pod(false, NOW - 1_000, NOW - 600_000), NOW - 5_000);
  const seen = await fresh.run();
  assert.equal(seen.problem, undefined);
  // Lost at renew + 10 s (a quarter of 40 s) + the 10 s fence budget: 15 s from now.
  assert.equal(seen.recheckAfterMs, 15_100);
});
