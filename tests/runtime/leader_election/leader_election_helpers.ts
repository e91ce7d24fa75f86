/** Shared steps of the leader election tests: reading Leases, operator logs and metrics. */
import type { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import type { Lease } from "../../../src/runtime/leader_election/lease_lock.ts";
import { collectionPath, CORE, objectPath } from "../../../src/runtime/client/resource.ts";
import type { OperatorProcess } from "../../../tools/testenv/mod.ts";

/** The Lease `default/<name>`, or `undefined` while it does not exist. */
export async function readLease(client: KubeClient, name: string): Promise<Lease | undefined> {
  try {
    return await client.request<Lease>("GET", objectPath(CORE.leases, "default", name));
  } catch {
    return undefined;
  }
}

/** The messages an operator has logged (its JSON lines), in order. */
export function logMessages(operator: OperatorProcess): string[] {
  const text = Deno.readTextFileSync(operator.process.logPath);
  return text.split("\n").flatMap((line) => {
    try {
      return [String(JSON.parse(line).msg)];
    } catch {
      return [];
    }
  });
}

/** The identity an operator campaigns with, from its "Attempting to acquire" log line. */
export function identityOf(operator: OperatorProcess): string | undefined {
  const text = Deno.readTextFileSync(operator.process.logPath);
  for (const line of text.split("\n")) {
    try {
      const entry = JSON.parse(line);
      if (entry.msg === "Attempting to acquire leader lease") return entry.identity;
    } catch {
      // Not a JSON line.
    }
  }
  return undefined;
}

/** `leader_election_master_status{name}` as an operator serves it (plain HTTP metrics). */
export async function masterStatus(operator: OperatorProcess, name: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`);
  const text = await response.text();
  const line = text.split("\n").find((l) =>
    l.startsWith(`leader_election_master_status{name="${name}"}`)
  );
  if (!line) throw new Error(`No leader_election_master_status for ${name}`);
  return Number(line.split(" ").at(-1));
}

export { createDatabase } from "../../_support/databases.ts";

/** Names of the StatefulSets in `ns`. */
export async function statefulSetNames(client: KubeClient, ns: string): Promise<string[]> {
  const list = await client.request<{ items: { metadata: { name: string } }[] }>(
    "GET",
    collectionPath(CORE.statefulSets, ns),
  );
  return list.items.map((s) => s.metadata.name).sort();
}

/** Resolves like `promise`, or rejects after `ms` saying what did not happen. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
