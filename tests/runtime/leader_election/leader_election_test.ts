import assert from "node:assert/strict";
import { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import { LeaderElector } from "../../../src/runtime/leader_election/leader_election.ts";
import { LeadershipLostError } from "../../../src/runtime/leader_election/lease_action.ts";
import { KubeLeaseLock } from "../../../src/runtime/leader_election/lease_lock.ts";
import { Logger } from "../../../src/runtime/observability/logger.ts";
import { RuntimeMetrics } from "../../../src/runtime/observability/metrics.ts";
import {
  ControlPlane,
  eventually,
  type OperatorProcess,
  startOperator,
  TcpProxy,
} from "../../../tools/testenv/mod.ts";
import { createNamespace } from "../../_support/cluster.ts";
import {
  createDatabase,
  identityOf,
  logMessages,
  masterStatus,
  readLease,
  statefulSetNames,
  within,
} from "./leader_election_helpers.ts";

const LEASE = "postgres-operator.example.com";
/** Short timings (lease 4 s, renew deadline 3 s, retry 0.5 s) keep the crash test short. */
const SHORT = [
  "--leader-elect",
  "--leader-election-namespace=default",
  "--leader-elect-lease-duration=4",
  "--leader-elect-renew-deadline=3",
  "--leader-elect-retry-period=0.5",
  "--metrics-secure=false",
];

Deno.test("Leader election against a real API server", async (t) => {
  await using plane = await ControlPlane.start();
  const client = plane.client;
  const operators: OperatorProcess[] = [];
  const start = async (
    args: string[],
    name: string,
    target: { kubeconfigPath: string; dir: string } = plane,
  ) => {
    const operator = await startOperator(target, args, name);
    operators.push(operator);
    return operator;
  };
  /** The operator among `candidates` that the Lease names, once it names one of them. */
  const leaderOf = async (candidates: OperatorProcess[], lease: string) => {
    let leader: OperatorProcess | undefined;
    await eventually(
      async () => {
        const holder = (await readLease(client, lease))?.spec?.holderIdentity;
        leader = candidates.find((o) => holder && identityOf(o) === holder);
        return leader !== undefined;
      },
      `one of ${candidates.length} operators holds ${lease}`,
      { timeoutMs: 60_000 },
    );
    return leader!;
  };

  try {
    const trio = await Promise.all(["a", "b", "c"].map((n) => start(SHORT, `operator-${n}`)));
    await Promise.all(trio.map((o) => o.ready()));
    let leader = await leaderOf(trio, LEASE);

    await t.step(
      "exactly one of three operators leads, and only the leader reconciles",
      async () => {
        const ns = await createNamespace(client, "election-one");
        await createDatabase(client, ns, "only-one");
        await eventually(
          async () => (await statefulSetNames(client, ns)).includes("only-one"),
          "the leader creates the StatefulSet",
        );
        // Renewals every 0.5 s for 3 s: the holder and the transition count must not move.
        const first = await readLease(client, LEASE);
        for (let i = 0; i < 15; i++) {
          const lease = await readLease(client, LEASE);
          assert.equal(lease?.spec?.holderIdentity, identityOf(leader));
          assert.equal(lease?.spec?.leaseTransitions, first?.spec?.leaseTransitions);
          await new Promise((r) => setTimeout(r, 200));
        }
        for (const operator of trio) {
          const messages = logMessages(operator);
          const leads = operator === leader;
          assert.equal(messages.includes("Became leader"), leads, operator.process.name);
          assert.equal(messages.includes("Starting workers"), leads, operator.process.name);
          assert.equal(messages.includes("Created"), leads, operator.process.name);
          assert.equal(await masterStatus(operator, LEASE), leads ? 1 : 0, operator.process.name);
        }
      },
    );

    await t.step(
      "after SIGKILL of the leader another leads within lease + retry period, and Databases created meanwhile converge",
      async () => {
        const old = leader;
        const oldIdentity = identityOf(old)!;
        const ns = await createNamespace(client, "election-crash");
        let lastRenewal = (await readLease(client, LEASE))?.spec?.renewTime;
        old.process.kill("SIGKILL");
        const killedAt = performance.now();
        const names = ["after-crash-1", "after-crash-2", "after-crash-3"];
        await Promise.all(names.map((name) => createDatabase(client, ns, name)));
        const followers = trio.filter((o) => o !== old);
        let takeover: Awaited<ReturnType<typeof readLease>>;
        await eventually(
          async () => {
            const lease = await readLease(client, LEASE);
            if (lease?.spec?.holderIdentity === oldIdentity) lastRenewal = lease.spec.renewTime;
            else takeover = lease;
            return takeover !== undefined;
          },
          "a follower takes over",
          { timeoutMs: 30_000, intervalMs: 20 },
        );
        const takeoverMs = performance.now() - killedAt;
        console.log(
          `SIGKILL → new leader in ${Math.round(takeoverMs)} ms (lease 4 s, retry 0.5 s)`,
        );
        // Bound: lease duration + the longest jittered retry (2.2 × 0.5 s) + 5 s for a loaded machine.
        assert.ok(takeoverMs < 4_000 + 1_100 + 5_000, `takeover took ${takeoverMs} ms`);
        // Nobody may take over before the lease has run out since the dead leader's last renewal.
        const waitedMs = Date.parse(takeover!.spec!.acquireTime!) - Date.parse(lastRenewal!);
        console.log(`last renewal → takeover: ${waitedMs} ms`);
        assert.ok(waitedMs >= 4_000 - 50, `took over ${waitedMs} ms after the last renewal`);
        leader = followers.find((o) => identityOf(o) === takeover!.spec!.holderIdentity)!;
        assert.ok(leader, "the new holder is one of the followers");
        await eventually(
          async () => (await statefulSetNames(client, ns)).join() === names.join(),
          "Databases created while leaderless converge",
          { timeoutMs: 60_000 },
        );
        assert.ok(logMessages(leader).includes("Starting workers"));
        assert.equal(await masterStatus(leader, LEASE), 1);
        assert.equal((await old.stop()).signal, "SIGKILL");
      },
    );

    await t.step(
      "after SIGTERM of the leader the lease is released and a follower takes over at once",
      async () => {
        for (const operator of trio) {
          const status = await operator.stop();
          if (status.signal !== "SIGKILL") assert.equal(status.code, 0, operator.process.name);
        }
        // Default timings (lease 15 s, renew 10 s, retry 2 s) on a Lease of their own.
        const args = [
          "--leader-elect",
          "--leader-election-namespace=default",
          "--metrics-secure=false",
        ];
        const pair = await Promise.all(
          ["d", "e"].map((n) => start([...args, "--leader-election-id=release"], `operator-${n}`)),
        );
        await Promise.all(pair.map((o) => o.ready()));
        const old = await leaderOf(pair, "release");
        const follower = pair.find((o) => o !== old)!;
        old.process.kill("SIGTERM");
        const terminatedAt = performance.now();
        await eventually(
          async () => {
            const holder = (await readLease(client, "release"))?.spec?.holderIdentity;
            return holder === identityOf(follower);
          },
          "the follower takes over",
          { timeoutMs: 30_000, intervalMs: 20 },
        );
        const takeoverMs = performance.now() - terminatedAt;
        console.log(`SIGTERM → new leader in ${Math.round(takeoverMs)} ms (lease 15 s, retry 2 s)`);
        // Without the release the follower would wait out the 15 s lease.
        assert.ok(takeoverMs < 10_000, `takeover took ${takeoverMs} ms`);
        assert.equal((await old.stop()).code, 0);
        const messages = logMessages(old);
        const finished = messages.indexOf("All workers finished");
        const released = messages.indexOf("Released leader lease");
        assert.ok(finished >= 0 && released > finished, "controllers stop before the release");
      },
    );

    await t.step(
      "a leader whose renewals hang reports the loss within the renew deadline",
      async () => {
        await using proxy = new TcpProxy({
          hostname: "127.0.0.1",
          port: Number(new URL(plane.server).port),
        });
        const proxied = new KubeClient(
          { ...plane.connection, server: `https://127.0.0.1:${proxy.port}` },
          { qps: 0 },
        );
        const metrics = new RuntimeMetrics();
        const elector = new LeaderElector({
          lock: new KubeLeaseLock(proxied, "default", "hung-renewals"),
          leaseDurationMs: 4_000,
          renewDeadlineMs: 3_000,
          retryPeriodMs: 500,
          logger: new Logger({ format: "json", level: "error", write: () => {} }),
          metrics,
        });
        const gauge = async () =>
          (await metrics.leaderElectionStatus.get()).values.find((v) =>
            v.labels.name === "hung-renewals"
          )?.value;
        const stop = new AbortController();
        const running = elector.run(stop.signal);
        try {
          await within(elector.elected, 30_000, "elected");
          assert.equal(elector.isLeader, true);
          assert.equal(await gauge(), 1);
          assert.equal(elector.healthCheck(), undefined);
          proxy.pause();
          const pausedAt = performance.now();
          let unhealthy: string | undefined;
          let lost: LeadershipLostError | undefined;
          elector.lost.then((error) => (lost = error));
          await eventually(
            () => {
              unhealthy ??= elector.healthCheck();
              return lost !== undefined;
            },
            "leadership is lost",
            { timeoutMs: 15_000, intervalMs: 20 },
          );
          const lostMs = performance.now() - pausedAt;
          console.log(`renewals hung → lost after ${Math.round(lostMs)} ms (renew deadline 3 s)`);
          assert.ok(lost instanceof LeadershipLostError);
          // The deadline counts from the last renewal, which started before the pause.
          assert.ok(lostMs < 3_000 + 1_000, `lost after ${lostMs} ms`);
          assert.ok(unhealthy, "/readyz failed while renewals hung");
          assert.equal(elector.isLeader, false);
          assert.equal(await gauge(), 0);
          await within(running, 5_000, "run() returns after the loss");
          // A lost leader does not touch the Lease again: it still names it until it expires.
          proxy.resume();
          assert.equal(
            (await readLease(client, "hung-renewals"))?.spec?.holderIdentity,
            elector.identity,
          );
        } finally {
          stop.abort();
          proxy.resume();
          await running;
          proxied.close();
        }
      },
    );

    await t.step("an operator that loses the lease exits with status 1 at once", async () => {
      await using proxy = new TcpProxy({
        hostname: "127.0.0.1",
        port: Number(new URL(plane.server).port),
      });
      const kubeconfigPath = `${plane.dir}/kubeconfig-proxied`;
      const kubeconfig = await Deno.readTextFile(plane.kubeconfigPath);
      await Deno.writeTextFile(
        kubeconfigPath,
        kubeconfig.replace(plane.server, `https://127.0.0.1:${proxy.port}`),
      );
      const operator = await start(
        [...SHORT, "--leader-election-id=exit-on-loss"],
        "operator-f",
        { kubeconfigPath, dir: plane.dir },
      );
      await operator.ready();
      await leaderOf([operator], "exit-on-loss");
      proxy.pause();
      const pausedAt = performance.now();
      const status = await within(operator.process.status, 30_000, "the operator exits");
      const exitMs = performance.now() - pausedAt;
      console.log(`renewals hung → exit in ${Math.round(exitMs)} ms (renew deadline 3 s)`);
      assert.equal(status.code, 1);
      // The deadline counts from the last renewal, before the pause; 2 s more for a loaded machine.
      assert.ok(exitMs < 3_000 + 2_000, `exited after ${exitMs} ms`);
      await eventually(
        () => logMessages(operator).includes("Leader election lost; exiting"),
        "the exit is logged",
      );
    });
  } finally {
    await Promise.all(operators.map((o) => o.stop()));
  }
});
