/**
 * Asking an instance's PostgreSQL what it is, over the pod network, as the Database's owner
 * role from its Secret: whether it is in recovery (a standby), how much WAL it has, and which
 * standbys a primary counts for synchronous commit. The operator asks while it chooses or checks
 * a new primary, and when it reconciles a Database with synchronous replicas (a pod changed),
 * never for a converged Database that nothing touches.
 * The client (`npm:pg`) is loaded on first use, so an operator without standbys never loads it.
 *
 * @module
 */
import { POSTGRES_PORT } from "../api/mod.ts";

/** What an instance answered. */
export interface InstanceReport {
  inRecovery: boolean;
  /** The WAL position it has: received (a standby), or written (a primary), as a number. */
  lsn: bigint;
  /** A primary's standbys that count for synchronous commit (`sync` or `quorum`), by name. */
  synchronous: string[];
}

/** Where and as whom to ask. */
export interface ProbeTarget {
  host: string;
  user: string;
  password: string;
  /** The Database's CA (its Secret's `ca.crt`): then over TLS, the server verified. */
  ca?: string | undefined;
  /** The name the server's certificate must carry (the pod's DNS name): `host` is an address. */
  servername: string;
  /** @default 2000 */
  timeoutMs?: number;
}

interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
  on(event: "error", listener: (error: unknown) => void): void;
}

let load: Promise<new (config: Record<string, unknown>) => PgClient> | undefined;

const QUERY = "SELECT pg_is_in_recovery() AS recovery, CASE WHEN pg_is_in_recovery() THEN " +
  "greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) ELSE pg_current_wal_lsn() " +
  "END - '0/0'::pg_lsn AS lsn, (SELECT string_agg(application_name, ',' ORDER BY " +
  "application_name) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')) AS sync";

/** Asks `target`; undefined when it does not answer in time. */
export async function probeInstance(target: ProbeTarget): Promise<InstanceReport | undefined> {
  const row = await queryRow(target, QUERY);
  if (!row) return undefined;
  return {
    inRecovery: row.recovery === true,
    lsn: BigInt(String(row.lsn ?? 0).split(".")[0]!),
    synchronous: typeof row.sync === "string" && row.sync ? row.sync.split(",") : [],
  };
}

/** The first row `sql` returns on `target`'s `postgres` database; undefined on any failure. */
export async function queryRow(
  target: ProbeTarget,
  sql: string,
): Promise<Record<string, unknown> | undefined> {
  load ??= import("pg").then((m) => (m.default ?? m).Client);
  const Client = await load;
  const timeout = target.timeoutMs ?? 2_000;
  const client = new Client({
    host: target.host,
    port: POSTGRES_PORT,
    user: target.user,
    password: target.password,
    database: "postgres",
    ...(target.ca ? { ssl: { ca: target.ca, servername: target.servername } } : {}),
    connectionTimeoutMillis: timeout,
    query_timeout: timeout,
    statement_timeout: timeout,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query(sql);
    return rows[0] ?? {};
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}
