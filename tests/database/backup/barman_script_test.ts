/**
 * `barman.sh restore` on the host, with barman-cloud's commands replaced by stubs on PATH: which
 * backup it restores for a target, and how it refuses one before the first backup or a store
 * with none. (The real commands run in tests/database/real_backup_test.ts.)
 */
import assert from "node:assert/strict";
import { BARMAN_SCRIPT } from "../../../src/database/backup/mod.ts";

const LIST = {
  backups_list: [
    { backup_id: "A", status: "DONE", end_time_iso: "2026-12-01T03:05:00+00:00" },
    { backup_id: "B", status: "DONE", end_time_iso: "2026-12-02T03:05:00+00:00" },
    { backup_id: "C", status: "FAILED", end_time_iso: "2026-12-03T03:05:00+00:00" },
  ],
};

/**
 * Runs `barman.sh <args>` with a store's credential files, the given barman commands replaced
 * by stubs (`$DIR` in a body is the scratch folder) and the restore store's environment.
 */
async function runScript(
  args: string[],
  stubs: Record<string, string>,
  env: Record<string, string> = {},
) {
  const dir = await Deno.makeTempDir({ prefix: "barman-script-" });
  try {
    await Deno.mkdir(`${dir}/bin`);
    await Deno.mkdir(`${dir}/store`);
    await Deno.writeTextFile(`${dir}/store/accessKeyId`, "key");
    await Deno.writeTextFile(`${dir}/store/secretAccessKey`, "secret");
    for (const [name, body] of Object.entries({ "barman-cloud-wal-archive": "exit 0", ...stubs })) {
      await Deno.writeTextFile(
        `${dir}/bin/${name}`,
        `#!/bin/bash\n${body.replaceAll("$DIR", dir)}\n`,
      );
      await Deno.chmod(`${dir}/bin/${name}`, 0o755);
    }
    const out = await new Deno.Command("bash", {
      args: ["-c", BARMAN_SCRIPT, "barman", ...args],
      env: {
        PATH: `${dir}/bin:${Deno.env.get("PATH")}`,
        PGDATA: `${dir}/data/pgdata`,
        RESTORE_ENDPOINT: "https://s3",
        RESTORE_DESTINATION: "s3://backups/shop",
        RESTORE_SERVER: "orders",
        RESTORE_DIR: `${dir}/store`,
        ...env,
      },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const asked = await Deno.readTextFile(`${dir}/asked`).then((t) => t.trim(), () => "");
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: out.code, asked, text: decode(out.stdout) + decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function restore(target: string | undefined, list: object = LIST) {
  return runScript(["restore"], {
    "barman-cloud-backup-list": `cat <<'JSON'\n${JSON.stringify(list)}\nJSON`,
    // Records which backup was asked for, then fails, so the script stops there.
    "barman-cloud-restore": 'echo "$5" > "$DIR/asked"; exit 1',
  }, {
    HOSTNAME: "copy-0",
    RESTORE_INSTANCE: "copy-0",
    ...(target ? { RESTORE_TARGET_TIME: target } : {}),
  });
}

Deno.test("restore: the newest completed backup that ended before the target", async () => {
  assert.equal((await restore("2026-12-02T12:00:00Z")).asked, "B");
  assert.equal((await restore("2026-12-01T12:00:00+01:00")).asked, "A");
  assert.equal((await restore(undefined)).asked, "B", "no target: the newest completed");
  assert.equal((await restore("2026-12-05T00:00:00Z")).asked, "B", "a failed one is skipped");
});

Deno.test("restore: a target before the first backup, or no backup at all, is refused", async () => {
  const early = await restore("2026-11-30T00:00:00Z");
  assert.equal(early.code, 3, "refused, not failed");
  assert.equal(early.asked, "");
  assert.match(
    early.text,
    /spec.restore.targetTime 2026-11-30T00:00:00Z is before the first recoverable point 2026-12-01T03:05:00/,
  );
  const none = await restore(undefined, { backups_list: [] });
  assert.equal(none.code, 3);
  assert.match(
    none.text,
    /There is no completed backup in s3:\/\/backups\/shop\/orders to restore/,
  );
});

/** `barman.sh restore-wal` with barman-cloud-wal-restore replaced by one exiting `code`. */
function restoreWal(code: number) {
  return runScript(["restore-wal", "000000010000000000000003", "x"], {
    "barman-cloud-wal-restore": `exit ${code}`,
  });
}

Deno.test("restore-wal: only a missing file ends recovery; a store error aborts it", async () => {
  assert.equal((await restoreWal(0)).code, 0);
  assert.equal((await restoreWal(1)).code, 1, "not in the store: recovery ends there");
  for (const failure of [2, 4]) {
    const run = await restoreWal(failure);
    // Above 125 PostgreSQL aborts the recovery instead of promoting a truncated replay.
    assert.equal(run.code, 255);
    assert.match(run.text, /aborting the recovery/);
  }
});

Deno.test("restore: the server is stopped only once the control file says it is in production", async () => {
  // The stub server drops recovery.signal at once and leaves recovery a moment later, as
  // PostgreSQL does when it promotes; the stub pg_ctl records what the control file said.
  const run = await runScript(["restore"], {
    "barman-cloud-backup-list": `cat <<'JSON'\n${JSON.stringify(LIST)}\nJSON`,
    // A backup of a TLS source holds the Secret volume's link to its hba_file (older Jobs).
    "barman-cloud-restore":
      'mkdir -p "$6" && echo 17 > "$6/PG_VERSION" && touch "$6/postgresql.conf"' +
      ' && ln -s ..data/pg_hba.conf "$6/pg_hba.conf"',
    "postgres": [
      // The recovery server refuses to start without a readable pg_hba.conf, as PostgreSQL does.
      'grep -q "^local" "$PGDATA/pg_hba.conf" || { echo "could not load pg_hba.conf" >&2; exit 1; }',
      'echo $$ > "$DIR/pid"',
      'rm -f "$PGDATA/recovery.signal"',
      "sleep 1.5",
      'echo "in production" > "$DIR/state"',
      "exec sleep 60",
    ].join("\n"),
    "pg_controldata":
      'echo "Database cluster state:               $(cat "$DIR/state" 2>/dev/null || echo "in archive recovery")"',
    "pg_ctl": 'cat "$DIR/state" > "$DIR/asked" 2>/dev/null; kill "$(cat "$DIR/pid")"',
  }, { HOSTNAME: "copy-0", RESTORE_INSTANCE: "copy-0" });
  assert.equal(run.code, 0, run.text);
  assert.equal(run.asked, "in production");
  assert.match(run.text, /Restored and promoted to a new timeline/);
});
