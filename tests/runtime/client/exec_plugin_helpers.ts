/** Real exec credential plugins for tests: small shell scripts written into a temporary folder. */

/** A folder of plugin scripts, removed on dispose. */
export interface PluginDir extends AsyncDisposable {
  dir: string;
  /** Writes an executable `/bin/sh` script named `name` and returns its path. */
  script(name: string, body: string): Promise<string>;
  /** How many times the script that counts in `name` has run (see {@linkcode tokenPlugin}). */
  runs(name: string): Promise<number>;
}

/** Creates a folder for plugin scripts. */
export async function pluginDir(): Promise<PluginDir> {
  const dir = await Deno.makeTempDir({ prefix: "exec-plugin-" });
  return {
    dir,
    async script(name, body) {
      const path = `${dir}/${name}`;
      await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
      await Deno.chmod(path, 0o755);
      return path;
    },
    async runs(name) {
      try {
        return (await Deno.readTextFile(`${dir}/${name}.runs`)).length;
      } catch {
        return 0;
      }
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * The body of a plugin that counts its runs in `<dir>/<name>.runs`, saves its environment's
 * `KUBERNETES_EXEC_INFO` and arguments, and prints a token `<prefix>-<run>` that expires at
 * `expiry` (an RFC 3339 time, or none).
 */
export function tokenPlugin(
  dir: string,
  name: string,
  prefix: string,
  expiry?: string,
  apiVersion = "client.authentication.k8s.io/v1",
): string {
  const expires = expiry ? `,"expirationTimestamp":"${expiry}"` : "";
  return [
    `printf x >> "${dir}/${name}.runs"`,
    `n=$(wc -c < "${dir}/${name}.runs" | tr -d ' ')`,
    `printf '%s' "$KUBERNETES_EXEC_INFO" > "${dir}/${name}.info"`,
    `printf '%s|' "$@" > "${dir}/${name}.args"`,
    `printf '%s' "$PLUGIN_GREETING" > "${dir}/${name}.env"`,
    `printf '{"apiVersion":"${apiVersion}","kind":"ExecCredential","status":{"token":"${prefix}-%s"${expires}}}' "$n"`,
  ].join("\n");
}
