/**
 * Checks a kubeconfig user's `exec` stanza as client-go does and turns it into an
 * {@linkcode ExecConfig}: a known API version, a command, string `args`, `env` pairs, and an
 * `interactiveMode` (required in v1, `IfAvailable` by default in v1beta1).
 *
 * @module
 */
import { EXEC_API_VERSIONS, type ExecClusterInfo, type ExecConfig } from "./exec_credential.ts";

/** The `exec` stanza cannot be used. Not retryable. */
export class ExecConfigError extends Error {
  override name = "ExecConfigError";
}

/**
 * Validates `raw` (the user's `exec` value).
 *
 * @param user The kubeconfig user's name, for messages.
 * @param raw The `exec` value as parsed from YAML.
 * @param cluster What the plugin is told when it sets `provideClusterInfo`.
 * @returns The checked configuration.
 * @throws {ExecConfigError} naming the user and the field at fault.
 */
export function parseExecConfig(user: string, raw: unknown, cluster: ExecClusterInfo): ExecConfig {
  const fail = (what: string) => new ExecConfigError(`User ${user}: exec ${what}`);
  if (typeof raw !== "object" || raw === null) throw fail("is not a mapping");
  const exec = raw as Record<string, unknown>;
  const apiVersion = exec.apiVersion;
  if (!(EXEC_API_VERSIONS as readonly unknown[]).includes(apiVersion)) {
    throw fail(
      `apiVersion "${apiVersion}" is not supported; use ${EXEC_API_VERSIONS.join(" or ")}`,
    );
  }
  if (typeof exec.command !== "string" || !exec.command) throw fail("has no command");
  const args = exec.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw fail("args must be a list of strings");
  }
  const env = exec.env ?? [];
  if (
    !Array.isArray(env) ||
    !env.every((e) => typeof e?.name === "string" && typeof e?.value === "string")
  ) {
    throw fail("env must be a list of {name, value} strings");
  }
  const v1 = apiVersion === "client.authentication.k8s.io/v1";
  const mode = exec.interactiveMode ?? (v1 ? undefined : "IfAvailable");
  if (mode !== "Never" && mode !== "IfAvailable" && mode !== "Always") {
    throw fail(
      mode === undefined
        ? "interactiveMode must be set for client.authentication.k8s.io/v1 (Never, IfAvailable or Always)"
        : `interactiveMode "${mode}" is not Never, IfAvailable or Always`,
    );
  }
  const config: ExecConfig = {
    apiVersion: apiVersion as ExecConfig["apiVersion"],
    command: exec.command,
    args: args as string[],
    env: (env as { name: string; value: string }[]).map(({ name, value }) => ({ name, value })),
    interactiveMode: mode,
    user,
  };
  if (typeof exec.installHint === "string" && exec.installHint) {
    config.installHint = exec.installHint;
  }
  if (exec.provideClusterInfo === true) config.cluster = cluster;
  return config;
}
