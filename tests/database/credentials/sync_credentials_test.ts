/**
 * `sync_credentials.sh` run for real, outside a pod: as the `postgres` user with this machine's
 * PostgreSQL binaries, on a temporary data directory, as the init container runs it.
 */
import assert from "node:assert/strict";
import { SYNC_CREDENTIALS_SCRIPT } from "../../../src/database/credentials/mod.ts";
import { selfSignedKeyPair } from "../../../src/runtime/serving/serving_certificate.ts";

const SCRIPT = new URL("../../../src/database/credentials/sync_credentials.sh", import.meta.url);

/** The newest PostgreSQL server installed from Debian's packages here. */
function postgresBin(): string {
  const majors = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => Number(e.name))
    .filter((n) => n > 0).sort((a, b) => b - a);
  assert.ok(majors.length > 0, "PostgreSQL's server (Debian package postgresql-15) is needed");
  return `/usr/lib/postgresql/${majors[0]}/bin`;
}

/** Runs `args` as the `postgres` user with `env` (only `env`, when `clearEnv`). */
async function asPostgres(args: string[], env: Record<string, string> = {}, clearEnv = false) {
  const out = await new Deno.Command("runuser", {
    args: [
      "-u",
      "postgres",
      "--",
      "env",
      ...(clearEnv ? ["-i"] : []),
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/**
 * The one request the script makes of the API server with standbys, `GET` of its Database,
 * answered over HTTPS on loopback with `status.currentPrimary`, checking the pod's token; the
 * token and CA go in a folder the script is pointed at as its ServiceAccount's.
 */
async function databaseEndpoint(currentPrimary: string) {
  const pair = await selfSignedKeyPair();
  const dir = await Deno.makeTempDir({ prefix: "sync-credentials-sa-" });
  await Deno.writeTextFile(`${dir}/token`, "the-pod-token");
  await Deno.writeTextFile(`${dir}/ca.crt`, pair.cert);
  await Deno.chmod(dir, 0o755);
  const seen: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: pair.cert, key: pair.key, onListen: () => {} },
    (request) => {
      seen.push(`${request.headers.get("authorization")} ${new URL(request.url).pathname}`);
      return Response.json({ status: { currentPrimary } });
    },
  );
  return {
    env: {
      KUBERNETES_SERVICE_HOST: "127.0.0.1",
      KUBERNETES_SERVICE_PORT: String(server.addr.port),
      SERVICE_ACCOUNT_DIR: dir,
      POD_NAMESPACE: "shop",
      DATABASE_NAME: "orders",
    },
    seen,
    [Symbol.asyncDispose]: async () => {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Runs the embedded script as the init container does: as `postgres`, with only `env`. */
function runScript(env: Record<string, string>) {
  return asPostgres(["bash", "-c", SYNC_CREDENTIALS_SCRIPT], env, true);
}

/** A temporary folder the `postgres` user owns; removed by `using`. */
async function postgresDir() {
  const dir = await Deno.makeTempDir({ prefix: "sync-credentials-" });
  await Deno.chmod(dir, 0o755);
  const owner = await new Deno.Command("chown", { args: ["postgres:postgres", dir] }).output();
  assert.ok(owner.success);
  return {
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Starts the server on `dataDir` on a loopback port, runs `sql` as `user`/`password`, stops. */
async function queryWithPassword(
  bin: string,
  dataDir: string,
  user: string,
  password: string,
  sql: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const port = String(20000 + Math.floor(Math.random() * 20000));
  // initdb trusts loopback (as in the image's pods, whose clients come over the pod's address):
  // put a password rule first, so the login below proves the password.
  const hba = `${dataDir}/pg_hba.conf`;
  const rules = await Deno.readTextFile(hba);
  if (!rules.startsWith("host all all 127.0.0.1/32 scram-sha-256\n")) {
    await Deno.writeTextFile(hba, `host all all 127.0.0.1/32 scram-sha-256\n${rules}`);
  }
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dataDir}`;
  // The server writes to a log file, not to our pipes, which would stay open while it runs.
  const log = `${dataDir}/server.log`;
  const started = await asPostgres([
    `${bin}/pg_ctl`,
    "-D",
    dataDir,
    "-l",
    log,
    "-o",
    options,
    "-w",
    "start",
  ]);
  assert.equal(started.code, 0, started.stderr);
  try {
    const out = await asPostgres(
      [`${bin}/psql`, "-h", "127.0.0.1", "-p", port, "-U", user, "-d", "app", "-XtAc", sql],
      { PGPASSWORD: password },
    );
    return { ...out, stdout: out.stdout.trim() };
  } finally {
    await asPostgres([`${bin}/pg_ctl`, "-D", dataDir, "-m", "fast", "-w", "stop"]);
  }
}

Deno.test("SYNC_CREDENTIALS_SCRIPT is sync_credentials.sh without its header", async () => {
  const file = await Deno.readTextFile(SCRIPT);
  assert.ok(file.startsWith("#!/bin/bash\n"));
  assert.ok(SYNC_CREDENTIALS_SCRIPT.startsWith("set -eo pipefail\n"));
  assert.ok(file.endsWith(SYNC_CREDENTIALS_SCRIPT));
});

Deno.test("sync_credentials.sh makes a primary whose roles have the Secret's passwords, and follows a rotation", async () => {
  const bin = postgresBin();
  await using tmp = await postgresDir();
  // The operator made orders-1 the primary (a failover): this pod's ordinal does not matter.
  await using api = await databaseEndpoint("orders-1");
  const env = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOSTNAME: "orders-1",
    PGDATA: `${tmp.dir}/pgdata`,
    POSTGRES_USER: "app",
    POSTGRES_PASSWORD: "first'pass",
    POSTGRES_DB: "app",
    REPLICATION_PASSWORD: "replicate",
    ...api.env,
  };
  const first = await runScript(env);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(api.seen, [
    "Bearer the-pod-token /apis/database.example.com/v1/namespaces/shop/databases/orders",
  ]);
  assert.match(first.stdout, /Initialising the primary's data directory/);
  assert.match(first.stdout, /Created database app/);
  const hba = await Deno.readTextFile(`${tmp.dir}/pgdata/pg_hba.conf`);
  assert.match(hba, /^host replication streaming_replica all scram-sha-256$/m);
  const roles = "SELECT string_agg(rolname || ':' || rolreplication, ',' ORDER BY rolname) " +
    "FROM pg_roles WHERE rolname IN ('app', 'streaming_replica')";
  const before = await queryWithPassword(bin, env.PGDATA, "app", "first'pass", roles);
  assert.equal(before.code, 0, before.stderr);
  // The Secret's role is the bootstrap superuser, which may replicate too.
  assert.equal(before.stdout, "app:true,streaming_replica:true");
  // The Secret's password changes: the next start applies it, and the old one stops working.
  const second = await runScript({ ...env, POSTGRES_PASSWORD: "second" });
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stdout, /Created database/);
  const stale = await queryWithPassword(bin, env.PGDATA, "app", "first'pass", "SELECT 1");
  assert.notEqual(stale.code, 0);
  assert.match(stale.stderr, /password authentication failed/);
  const fresh = await queryWithPassword(bin, env.PGDATA, "app", "second", "SELECT 1");
  assert.equal(fresh.stdout, "1", fresh.stderr);
});

Deno.test("sync_credentials.sh refuses a data directory of another major version, saying why", async () => {
  const bin = postgresBin();
  await using tmp = await postgresDir();
  const env = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOSTNAME: "orders-0",
    PGDATA: `${tmp.dir}/pgdata`,
    POSTGRES_USER: "app",
    POSTGRES_PASSWORD: "pass",
    POSTGRES_DB: "app",
  };
  const empty = await runScript(env);
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(empty.stdout, /No data directory yet/);
  await using api = await databaseEndpoint("orders-0");
  await runScript({ ...env, REPLICATION_PASSWORD: "r", ...api.env });
  await asPostgres(["sh", "-c", `echo 9 > ${env.PGDATA}/PG_VERSION`]);
  const refused = await runScript(env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /initialised by PostgreSQL 9 and this image runs PostgreSQL \d+/);
});
