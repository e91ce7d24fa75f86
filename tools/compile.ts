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
 * V8's flags are compiled in: a `deno compile`d binary runs with the `--v8-flags` it was built
 * with and ignores `DENO_V8_FLAGS` (Deno 2.9.6 records `construct_v8_flags(defaults,
 * --v8-flags, [])` in the binary's metadata, with no flags from the environment), so the heap
 * limit a container's memory limit calls for is chosen when the image is built:
 * {@linkcode shippedV8Flags}, an old space of 128 MiB for the manifests' 256Mi by default.
 *
 * Usage: `deno task compile [--commit=SHA] [--max-old-space-size=MIB]`. Without `--commit`, the
 * commit is asked from git (with `-dirty` when the work tree has changes); the Docker build
 * passes it, as it has no `.git`.
 *
 * `deno compile` downloads its `denort` runtime the first time, so it needs internet access.
 *
 * @module
 */
import { cp } from "node:fs/promises";
import { helpAsked } from "./task_args.ts";

const REPO = new URL("../", import.meta.url).pathname;
/** What the binary is built from: the entry point, its sources, and the config and lock. */
const SOURCES = ["main.ts", "deno.json", "deno.lock", "src"];
/** Where `deno task compile` writes the binary. */
export const OUTPUT = `${REPO}dist/postgres-operator`;

/** The V8 old-space limit the shipped binary is built with (MiB): 1/2 of a 256Mi limit. */
export const DEFAULT_OLD_SPACE_MIB = 128;

/**
 * The V8 flags compiled into the binary: the old-space limit (1/2 of the container's memory
 * limit, README "Memory") and V8's memory-over-speed mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(shippedV8Flags(256), ["--max-old-space-size=256", "--optimize-for-size"]);
 * ```
 */
export function shippedV8Flags(oldSpaceMiB = DEFAULT_OLD_SPACE_MIB): string[] {
  return [`--max-old-space-size=${oldSpaceMiB}`, "--optimize-for-size"];
}

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

/** `deno compile`'s arguments for the staged `main.ts`: the `operator` permission set, V8's flags. */
export function compileArgs(main: string, v8Flags = shippedV8Flags()): string[] {
  const config = main.replace(/main\.ts$/, "deno.json");
  return [
    "compile",
    `--config=${config}`,
    "-P=operator",
    `--v8-flags=${v8Flags.join(",")}`,
    `--output=${OUTPUT}`,
    main,
  ];
}

/**
 * Compiles `main.ts` of a staged copy into {@linkcode OUTPUT} with the `operator` permission set.
 * @returns deno compile's exit code.
 */
export async function compile(main: string, v8Flags = shippedV8Flags()): Promise<number> {
  const { code } = await new Deno.Command(Deno.execPath(), { args: compileArgs(main, v8Flags) })
    .spawn().status;
  return code;
}

/** `deno task compile`'s options; an Error naming the argument it cannot use. */
export function parseCompileArgs(args: string[]): { commit?: string; oldSpaceMiB: number } {
  let commit: string | undefined;
  let oldSpaceMiB = DEFAULT_OLD_SPACE_MIB;
  for (const arg of args) {
    if (arg === "--") continue;
    if (arg.startsWith("--commit=")) commit = arg.slice("--commit=".length) || undefined;
    else if (arg.startsWith("--max-old-space-size=")) {
      oldSpaceMiB = Number(arg.slice("--max-old-space-size=".length));
      if (!Number.isInteger(oldSpaceMiB) || oldSpaceMiB < 16) {
        throw new Error(`${arg}: the old-space limit is a whole number of MiB, at least 16`);
      }
    } else throw new Error(`unknown argument ${arg}`);
  }
  return { ...(commit ? { commit } : {}), oldSpaceMiB };
}

const USAGE = "usage: deno task compile [--commit=SHA] [--max-old-space-size=MIB]";

if (import.meta.main) {
  if (helpAsked(Deno.args)) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let options: ReturnType<typeof parseCompileArgs>;
  try {
    options = parseCompileArgs(Deno.args);
  } catch (error) {
    console.error(`compile: ${(error as Error).message}; ${USAGE}`);
    Deno.exit(2);
  }
  const commit = options.commit ?? await gitCommit();
  const stage = await Deno.makeTempDir({ prefix: "postgres-operator-build-" });
  let code = 1;
  try {
    code = await compile(await stageSources(commit, stage), shippedV8Flags(options.oldSpaceMiB));
    if (code === 0) console.log(`Built ${OUTPUT} (commit ${commit})`);
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
  Deno.exit(code);
}
