/**
 * What tests on the real node share: registering them (left out only with the documented
 * opt-out), running `psql` in a client pod, and checking the host is as it was.
 *
 * @module
 */
import {
  type ControlPlane,
  eventually,
  NO_REAL_NODE_ENV,
  NODE_NAME,
} from "../../tools/testenv/mod.ts";

/**
 * Registers a test that needs a real node. It runs everywhere unless `NO_REAL_NODE_ENV` is set;
 * on a machine without what a real node needs it fails, with one line saying what is missing.
 */
export function realNodeTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({
    name,
    ignore: Deno.env.get(NO_REAL_NODE_ENV) === "1",
    // The kubelet and containerd keep connections and timers of their own; they are stopped
    // by the test, which checks the host afterwards.
    sanitizeOps: false,
    sanitizeResources: false,
    fn,
  });
}

/** `plane.kubectl` that fails the test, with kubectl's stderr, when kubectl fails. */
export function mustKubectl(plane: ControlPlane): (args: string[]) => Promise<string> {
  return async (args) => {
    const out = await plane.kubectl(args);
    if (out.code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${out.stderr}`);
    return out.stdout;
  };
}

/**
 * Resolves once `child`, a `kubectl port-forward` with piped stdout, says it is forwarding;
 * its stdout is released then.
 * @throws {Error} when it ends before that, with what it printed.
 */
export async function forwarding(child: Deno.ChildProcess): Promise<void> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let said = "";
  while (!said.includes("Forwarding from")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`port-forward ended: ${said}`);
    said += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
}

/** Options for {@linkcode psql}. */
export interface PsqlOptions {
  namespace?: string;
  /** The Secret whose `uri` key the client connects with. */
  secret: string;
  /** Use this URI instead (e.g. with a changed password); the Secret is not read. */
  uri?: string;
  /** The client pod's image. @default "postgres:17" */
  image?: string;
  /** The node the client runs on. @default NODE_NAME, the first real node */
  node?: string;
}

/**
 * Runs `sql` with `psql` in a client pod on a real node, connecting with the Secret's `uri`
 * (through the Service's DNS name), and returns what psql printed (unaligned, tuples only).
 * @throws {Error} with psql's output when it fails.
 */
export async function psql(
  plane: ControlPlane,
  sql: string,
  options: PsqlOptions,
): Promise<string> {
  const uri = options.uri === undefined
    ? { valueFrom: { secretKeyRef: { name: options.secret, key: "uri" } } }
    : { value: options.uri };
  const run = await runPod(plane, {
    name: "psql",
    namespace: options.namespace,
    node: options.node,
    container: {
      image: options.image ?? "postgres:17",
      command: ["psql", "$(URI)", "-v", "ON_ERROR_STOP=1", "-X", "-tA", "-c", sql],
      env: [{ name: "URI", ...uri }, ...(options.secret ? CA_ENV : [])],
      ...(options.secret ? { volumeMounts: [CA_MOUNT] } : {}),
    },
    ...(options.secret ? { volumes: [caVolume(options.secret)] } : {}),
  });
  if (!run.succeeded) throw new Error(`psql failed: ${run.logs}`);
  return run.logs.trim();
}

/**
 * A client's trust in a Database's server: its Secret's `ca.crt`, mounted, and libpq told to
 * use it, so the Secret's `uri` (`sslmode=verify-full`) verifies the server's name.
 */
export function caVolume(secret: string) {
  return {
    name: "database-ca",
    secret: { secretName: secret, items: [{ key: "ca.crt", path: "ca.crt" }], optional: true },
  };
}
/** Where {@linkcode caVolume} is mounted. */
export const CA_MOUNT = { name: "database-ca", mountPath: "/etc/database-ca", readOnly: true };
/** libpq's root certificate: the mounted CA. */
export const CA_ENV = [{ name: "PGSSLROOTCERT", value: "/etc/database-ca/ca.crt" }];

/** Options for {@linkcode runPod}. */
export interface RunPodOptions {
  /** The pod's name prefix; a random suffix is added. */
  name: string;
  /** @default "default" */
  namespace?: string | undefined;
  /** The node it runs on (KWOK nodes may sit next to real ones). @default NODE_NAME */
  node?: string | undefined;
  /** The container (`name` is set): image, command, env, volumeMounts… */
  container: Record<string, unknown>;
  /** The pod's volumes. */
  volumes?: unknown[];
}

/**
 * Runs one container to completion in a pod on a real node, and deletes the pod.
 * @returns whether it succeeded, and what it printed (stdout and stderr, as `kubectl logs`).
 */
export async function runPod(
  plane: ControlPlane,
  options: RunPodOptions,
): Promise<{ succeeded: boolean; logs: string }> {
  const ns = options.namespace ?? "default";
  const name = `${options.name}-${crypto.randomUUID().slice(0, 8)}`;
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns },
    spec: {
      restartPolicy: "Never",
      enableServiceLinks: false,
      nodeSelector: { "kubernetes.io/hostname": options.node ?? NODE_NAME },
      containers: [{ name: options.name, ...options.container }],
      ...(options.volumes ? { volumes: options.volumes } : {}),
    },
  };
  await plane.client.request("POST", `/api/v1/namespaces/${ns}/pods`, { body: pod });
  try {
    let phase = "";
    await eventually(
      async () => {
        const live = await plane.client.request<{ status?: { phase?: string } }>(
          "GET",
          `/api/v1/namespaces/${ns}/pods/${name}`,
        );
        phase = live.status?.phase ?? "";
        return phase === "Succeeded" || phase === "Failed";
      },
      `pod ${name} finished`,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const logs = await plane.kubectl(["logs", "-n", ns, name]);
    return { succeeded: phase === "Succeeded", logs: logs.stdout + logs.stderr };
  } finally {
    await plane.kubectl(["delete", "pod", "-n", ns, name, "--wait=false", "--grace-period=0"]);
  }
}

/** What a real node could leave behind on the host, to compare before and after. */
export interface HostState {
  netns: string[];
  links: string[];
  mounts: string[];
  cgroups: string[];
  hostPaths: Record<string, boolean>;
  rootIptables: string;
}

/** Reads the host's network namespaces, links, mounts, top-level cgroups and rules. */
export async function hostState(): Promise<HostState> {
  const run = async (cmd: string, args: string[]) =>
    new TextDecoder().decode(
      (await new Deno.Command(cmd, { args, stdout: "piped" }).output()).stdout,
    );
  const lines = (text: string) => text.split("\n").filter(Boolean).sort();
  const cgroupDirs: string[] = [];
  for (const hierarchy of Deno.readDirSync("/sys/fs/cgroup")) {
    try {
      for (const entry of Deno.readDirSync(`/sys/fs/cgroup/${hierarchy.name}`)) {
        if (entry.isDirectory) cgroupDirs.push(`${hierarchy.name}/${entry.name}`);
      }
    } catch {
      // Not a folder.
    }
  }
  const paths = [
    "/var/lib/kubelet",
    "/var/log/containers",
    "/var/log/pods",
    "/var/lib/cni",
    "/run/containerd",
    "/tmp/hostpath_pv",
  ];
  return {
    netns: lines(await run("ip", ["netns", "list"])),
    links: lines(await run("ip", ["-o", "link", "show"])).map((l) => l.split(":")[1]!.trim()),
    mounts: lines(Deno.readTextFileSync("/proc/self/mountinfo")).map((l) => l.split(" ")[4]!),
    cgroups: cgroupDirs.sort(),
    hostPaths: Object.fromEntries(paths.map((p) => [p, exists(p)])),
    // Rules only: comments carry dates and chains carry packet counters.
    rootIptables: lines(await run("iptables-save", []))
      .filter((l) => !l.startsWith("#"))
      .map((l) => l.replace(/\[\d+:\d+\]/, ""))
      .join("\n"),
  };
}

/** The processes whose command line mentions `text` (a cluster's folder, say). */
export function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      if (cmdline.includes(text)) found.push(`${entry.name} ${cmdline}`);
    } catch {
      // Gone.
    }
  }
  return found;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
