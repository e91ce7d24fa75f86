/**
 * What the multi-node tests share: small PostgreSQL servers pinned to a node, their addresses
 * and host processes, and `deno task node` run as a person would run it.
 *
 * @module
 */
import type { ControlPlane } from "../../tools/testenv/mod.ts";
/** The harness's own check, which its node faults wait on. */
export { alive } from "../../tools/testenv/mod.ts";

const REPO = new URL("../../", import.meta.url).pathname;

/** The password of {@linkcode serverPod}'s `postgres` user. */
export const SERVER_PASSWORD = "pw";

/** A PostgreSQL pod on `node`, labelled `app: <name>`, Ready once it accepts connections. */
export function serverPod(name: string, node: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: name } },
    spec: { nodeSelector: { "kubernetes.io/hostname": node }, ...serverSpec() },
  };
}

/** The pod spec of a PostgreSQL server (data in PGDATA, below an optional volume's mount). */
export function serverSpec(volumeClaim?: string): Record<string, unknown> {
  return {
    terminationGracePeriodSeconds: 1,
    containers: [{
      name: "postgres",
      image: "postgres:17",
      env: [
        { name: "POSTGRES_PASSWORD", value: SERVER_PASSWORD },
        { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
      ],
      readinessProbe: {
        exec: { command: ["pg_isready", "-h", "127.0.0.1"] },
        periodSeconds: 1,
      },
      ...(volumeClaim
        ? { volumeMounts: [{ name: volumeClaim, mountPath: "/var/lib/postgresql/data" }] }
        : {}),
    }],
  };
}

/** A ClusterIP Service in front of the pods labelled `app: <name>`. */
export function service(name: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: { selector: { app: name }, ports: [{ port: 5432 }] },
  };
}

/** A connection URI to a {@linkcode serverPod} at `host`. */
export function serverUri(host: string): string {
  return `postgresql://postgres:${SERVER_PASSWORD}@${host}:5432/postgres?connect_timeout=5`;
}

/** A pod's IP, once it has one. */
export async function podIp(plane: ControlPlane, name: string): Promise<string> {
  const pod = await plane.client.request<{ status?: { podIP?: string } }>(
    "GET",
    `/api/v1/namespaces/default/pods/${name}`,
  );
  if (!pod.status?.podIP) throw new Error(`pod ${name} has no IP yet`);
  return pod.status.podIP;
}

/** The host PIDs of a node's PostgreSQL server processes (`postgres` and its children). */
export async function postgresPids(plane: ControlPlane, node: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await plane.nodePids(node)) {
    try {
      const comm = Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
      if (comm === "postgres") found.push(pid);
    } catch {
      // Gone.
    }
  }
  return found.sort((a, b) => a - b);
}

/** `deno task node ARGS…` with `KUBECONFIG` set, as a person in another terminal runs it. */
export async function nodeTask(
  kubeconfig: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "node", ...args],
    cwd: REPO,
    env: { KUBECONFIG: kubeconfig, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}
