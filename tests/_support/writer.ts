/**
 * A client that writes one row every 100 ms through a Database's read-write Service, from a pod
 * on a chosen node, and says which commits it saw acknowledged: the measure of every HA test.
 * Each write is a new connection (`psql -c`), killed after 3 s without an answer, so a commit
 * that was never acknowledged is never counted (no statement_timeout: a cancelled wait for a
 * synchronous standby would report success for a commit that exists on the primary alone).
 *
 * @module
 */
import type { ControlPlane } from "../../tools/testenv/mod.ts";
import { eventually } from "../../tools/testenv/mod.ts";
import { CA_ENV, CA_MOUNT, caVolume } from "./real_node.ts";

/** One write as the client saw it: its row id, when it ended (ms), and whether it committed. */
export interface Write {
  id: number;
  at: number;
  ok: boolean;
}

const LOOP = [
  "i=0",
  "while true; do",
  "  i=$((i + 1))",
  '  if timeout 3 psql "$URI" -XtAq -v ON_ERROR_STOP=1 ' +
  "-c \"INSERT INTO acked (id, writer) VALUES ($i, '$WRITER')\" >/dev/null 2>&1; then",
  '    echo "ok $i $(date +%s%3N)"',
  "  else",
  '    echo "fail $i $(date +%s%3N)"',
  "  fi",
  "  sleep 0.1",
  "done",
].join("\n");

/** A writer pod; `writes()` reads its log, `stop()` deletes it. */
export interface Writer extends AsyncDisposable {
  name: string;
  writes(): Promise<Write[]>;
}

/**
 * Starts a writer named `name` on `node`, connecting with the `uri` key of `secret`, once the
 * table `acked (id int, writer text)` exists.
 */
export async function startWriter(
  plane: ControlPlane,
  name: string,
  node: string,
  secret: string,
): Promise<Writer> {
  await plane.client.request("POST", "/api/v1/namespaces/default/pods", {
    body: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        restartPolicy: "Never",
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 0,
        nodeSelector: { "kubernetes.io/hostname": node },
        containers: [{
          name: "writer",
          image: "postgres:17",
          command: ["bash", "-c", LOOP],
          env: [
            { name: "URI", valueFrom: { secretKeyRef: { name: secret, key: "uri" } } },
            { name: "WRITER", value: name },
            { name: "PGCONNECT_TIMEOUT", value: "2" },
            ...CA_ENV,
          ],
          volumeMounts: [CA_MOUNT],
        }],
        volumes: [caVolume(secret)],
      },
    },
  });
  let last = "";
  const writes = async (): Promise<Write[]> => {
    const out = await plane.kubectl(["logs", name]);
    if (out.code !== 0) throw new Error(`kubectl logs ${name}: ${out.stderr}`);
    last = out.stdout;
    return parseWrites(out.stdout);
  };
  await eventually(
    async () => (await writes().catch(() => [])).some((w) => w.ok),
    `writer ${name} commits`,
    { timeoutMs: 120_000, intervalMs: 500, describe: () => last.slice(-500) },
  );
  return {
    name,
    writes,
    [Symbol.asyncDispose]: async () => {
      await plane.kubectl(["delete", "pod", name, "--wait=false", "--grace-period=0", "--force"]);
    },
  };
}

/** The writes in a writer's log. */
export function parseWrites(log: string): Write[] {
  return log.split("\n").flatMap((line) => {
    const m = /^(ok|fail) (\d+) (\d+)$/.exec(line.trim());
    return m ? [{ ok: m[1] === "ok", id: Number(m[2]), at: Number(m[3]) }] : [];
  });
}

/** The longest time between two acknowledged writes that ended in [from, to]. */
export function longestGap(writes: Write[], from = 0, to = Infinity): number {
  const acked = writes.filter((w) => w.ok).map((w) => w.at).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < acked.length; i++) {
    if (acked[i]! < from || acked[i - 1]! > to) continue;
    gap = Math.max(gap, acked[i]! - acked[i - 1]!);
  }
  return gap;
}
