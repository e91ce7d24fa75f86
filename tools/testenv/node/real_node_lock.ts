/**
 * One real node per machine: its network namespace, addresses and cgroup root have fixed names,
 * so a second cluster (another test process, a `deno task dev` in another terminal) must wait
 * for the first. The lock is an exclusive `flock` on a file under /run, which the kernel
 * releases when its holder exits for any reason, SIGKILL included; so whoever holds it knows
 * that anything left of a real node belongs to a dead holder and may be removed.
 *
 * @module
 */

const LOCK_PATH = "/run/postgres-operator-real-node.lock";

/**
 * Waits for the machine's real node and returns the held lock (close it to release).
 * Says once on stderr whom it waits for, when it has to wait.
 */
export async function lockRealNode(): Promise<Deno.FsFile> {
  const file = await Deno.open(LOCK_PATH, { create: true, read: true, write: true });
  let waiting = true;
  const notice = setTimeout(async () => {
    if (!waiting) return;
    const holder = (await Deno.readTextFile(LOCK_PATH).catch(() => "")).trim() || "unknown";
    console.error(`testenv: waiting for the real node, held by process ${holder}…`);
  }, 1_000);
  try {
    await file.lock(true);
  } finally {
    waiting = false;
    clearTimeout(notice);
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  return file;
}
