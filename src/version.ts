/**
 * The operator's version. `deno task compile` stamps the commit into the binary by running
 * `tools/compile.ts`, which rewrites this file's `commit` for the build only.
 *
 * @module
 */
export const VERSION = { version: "0.1.0", commit: "development" };
