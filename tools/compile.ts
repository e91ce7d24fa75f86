/**
 * `deno task compile`: builds the single binary `dist/postgres-operator` with
 * `deno compile -P=operator`. The `operator` permission set in `deno.json` is the one list of
 * permissions: every test that starts the operator runs under it too, and `deno task start` runs
 * under `operator-local`, the same set plus `run` for exec credential plugins.
 *
 * The commit is stamped without touching the checked-in sources: they are copied to a temporary
 * folder whose `src/commit.json` gets the commit, and the binary is compiled from that copy. The
 * repository's `src/commit.json` keeps saying "development", so a fresh clone type-checks and a
 * build interrupted half-way leaves nothing to clean up.
 *
 * Usage: `deno task compile [--commit=SHA]`. Without `--commit`, the commit is asked from git
 * (with `-dirty` when the work tree has changes); the Docker build passes it, as it has no `.git`.
 *
 * `deno compile` downloads its `denort` runtime the first time, so it needs internet access.
 *
 * @module
 */
import { cp } from "node:fs/promises";

const REPO = new URL("../", import.meta.url).pathname;
/** What the binary is built from: the entry point, its sources, and the config and lock. */
const SOURCES = ["main.ts", "deno.json", "deno.lock", "src"];
/** Where `deno task compile` writes the binary. */
export const OUTPUT = `${REPO}dist/postgres-operator`;

/**
 * The commit of the repository at `dir`: `git rev-parse --short=12 HEAD`, plus `-dirty` when
 * tracked files have changed; "unknown" when git or the `.git` folder is missing.
 */
export async function gitCommit(dir = REPO): Promise<string> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args: ["-C", dir, ...args], stderr: "null" })
      .output();
    if (!out.success) throw new Error(`git ${args.join(" ")} failed`);
    return new TextDecoder().decode(out.stdout).trim();
  };
  try {
    const commit = await git("rev-parse", "--short=12", "HEAD");
    const changes = await git("status", "--porcelain", "--untracked-files=no");
    return changes ? `${commit}-dirty` : commit;
  } catch {
    return "unknown";
  }
}

/**
 * Copies the binary's sources into `dir` and stamps `commit` into the copy's `src/commit.json`.
 * @returns the path of the copy's `main.ts`.
 */
export async function stageSources(commit: string, dir: string): Promise<string> {
  for (const path of SOURCES) await cp(`${REPO}${path}`, `${dir}/${path}`, { recursive: true });
  await Deno.writeTextFile(`${dir}/src/commit.json`, `${JSON.stringify({ commit })}\n`);
  return `${dir}/main.ts`;
}

/**
 * Compiles `main.ts` of a staged copy into {@linkcode OUTPUT} with the `operator` permission set.
 * @returns deno compile's exit code.
 */
export async function compile(main: string): Promise<number> {
  const config = main.replace(/main\.ts$/, "deno.json");
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["compile", `--config=${config}`, "-P=operator", `--output=${OUTPUT}`, main],
  }).spawn().status;
  return code;
}

if (import.meta.main) {
  const unknown = Deno.args.find((a) => !a.startsWith("--commit="));
  if (unknown) {
    console.error(`compile: unknown argument ${unknown}; usage: deno task compile [--commit=SHA]`);
    Deno.exit(2);
  }
  const flag = Deno.args.at(-1)?.slice("--commit=".length);
  const commit = flag || await gitCommit();
  const stage = await Deno.makeTempDir({ prefix: "postgres-operator-build-" });
  let code = 1;
  try {
    code = await compile(await stageSources(commit, stage));
    if (code === 0) console.log(`Built ${OUTPUT} (commit ${commit})`);
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
  Deno.exit(code);
}
