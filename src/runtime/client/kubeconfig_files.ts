/**
 * Reads one or several kubeconfig files into one, as client-go's loading rules do for
 * `KUBECONFIG=a:b:c`: the first file that names a cluster, user or context wins it, the first
 * non-empty `current-context` wins, files that do not exist are skipped, and relative paths
 * (certificate authority, client certificate and key, token file, an exec command with a `/`)
 * are resolved against the folder of the file that names them, before merging.
 *
 * @module
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";

/** One named entry of `clusters`, `users` or `contexts`, with the file that defined it. */
export interface Entry {
  name: string;
  value: Record<string, unknown>;
  /** The file the entry came from, for messages. */
  file: string;
}

/** The merged content of the files. */
export interface MergedKubeconfig {
  currentContext?: string;
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  /** Files that were read, in order. */
  files: string[];
}

/** A file is missing, unreadable or not a kubeconfig. Not retryable. */
export class KubeconfigFileError extends Error {
  override name = "KubeconfigFileError";
}

/** Where each kind of entry keeps its paths. */
const PATH_FIELDS = {
  clusters: ["certificate-authority"],
  users: ["client-certificate", "client-key", "tokenFile"],
  contexts: [],
} as const;

/**
 * Reads and merges `paths` in order.
 *
 * @param paths Kubeconfig files, first wins.
 * @param options `skipMissing` skips files that do not exist (the `KUBECONFIG` list); an
 * explicit `--kubeconfig` must exist.
 * @returns The merged kubeconfig; empty maps when no file existed.
 * @throws {KubeconfigFileError} when a file cannot be read or parsed.
 */
export async function readKubeconfigs(
  paths: string[],
  options: { skipMissing?: boolean } = {},
): Promise<MergedKubeconfig> {
  const merged: MergedKubeconfig = {
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
    files: [],
  };
  const seen = new Set<string>();
  for (const given of paths) {
    const path = resolve(given);
    if (seen.has(path)) continue;
    seen.add(path);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (options.skipMissing && error instanceof Deno.errors.NotFound) continue;
      throw new KubeconfigFileError(`Cannot read ${given}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    let doc: unknown;
    try {
      doc = parseYaml(text) ?? {};
    } catch (error) {
      throw new KubeconfigFileError(`Kubeconfig ${given} is not valid YAML`, { cause: error });
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
      throw new KubeconfigFileError(`Kubeconfig ${given} is not a mapping`);
    }
    merged.files.push(path);
    const config = doc as Record<string, unknown>;
    const current = config["current-context"];
    if (!merged.currentContext && typeof current === "string" && current) {
      merged.currentContext = current;
    }
    for (const list of ["clusters", "users", "contexts"] as const) {
      const field = list.slice(0, -1);
      for (const item of asArray(config[list], given, list)) {
        const name = item.name;
        const value = item[field];
        if (typeof name !== "string" || merged[list].has(name)) continue;
        if (typeof value !== "object" || value === null) continue;
        const entry = resolvePaths(list, { ...(value as Record<string, unknown>) }, path);
        merged[list].set(name, { name, value: entry, file: given });
      }
    }
  }
  return merged;
}

function asArray(value: unknown, file: string, list: string): Record<string, unknown>[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw new KubeconfigFileError(`Kubeconfig ${file}: ${list} is not a list`);
  }
  return value.filter((item) => typeof item === "object" && item !== null);
}

function resolvePaths(
  list: keyof typeof PATH_FIELDS,
  value: Record<string, unknown>,
  file: string,
): Record<string, unknown> {
  const dir = dirname(file);
  for (const key of PATH_FIELDS[list]) {
    const path = value[key];
    if (typeof path === "string" && path && !isAbsolute(path)) value[key] = resolve(dir, path);
  }
  const exec = value.exec;
  if (list === "users" && typeof exec === "object" && exec !== null) {
    const command = (exec as Record<string, unknown>).command;
    // A bare name is looked up on PATH; a relative path is relative to this file.
    if (typeof command === "string" && command.includes("/") && !isAbsolute(command)) {
      value.exec = { ...exec, command: resolve(dir, command) };
    }
  }
  return value;
}
