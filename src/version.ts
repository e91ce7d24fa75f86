/**
 * The operator's version. The commit comes from `commit.json`, which says "development" in the
 * repository; `deno task compile` (tools/compile.ts) builds from a copy of the sources whose
 * `commit.json` holds the real commit, so the binary's `--version` names it.
 *
 * @module
 */
import build from "./commit.json" with { type: "json" };

/** Version and commit, as `--version` prints them. */
export const VERSION: { version: string; commit: string } = {
  version: "0.1.0",
  commit: build.commit,
};
