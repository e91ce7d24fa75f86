/**
 * Exec credential plugins (`client.authentication.k8s.io/v1` and `v1beta1`), as kubectl and
 * client-go run them: the kubeconfig names a command; it is run with its `args` and `env` plus
 * `KUBERNETES_EXEC_INFO`, and prints an `ExecCredential` whose `status` holds a bearer token or
 * a client certificate, valid until `expirationTimestamp`.
 *
 * Guarantees:
 * - A credential is reused until its `expirationTimestamp` (forever without one), and one run
 *   of the plugin serves every caller waiting at that moment.
 * - {@linkcode ExecCredentialPlugin.invalidate} (after a 401) makes the next caller run the plugin
 *   again, unless another caller already replaced the rejected credential.
 * - A plugin with `interactiveMode: Always` is never run without a terminal on stdin; when one is
 *   run interactively, it shares the terminal (stdin and stderr) as kubectl lets it.
 *
 * Caveats: running a plugin needs Deno's `run` permission. The in-cluster permission set
 * (`operator`) does not grant it; `deno task start` runs with `operator-local`, which does.
 *
 * @module
 */

/** The API versions of `ExecCredential` this operator speaks. */
export const EXEC_API_VERSIONS = [
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
] as const;

/** The cluster as a plugin with `provideClusterInfo: true` sees it in `KUBERNETES_EXEC_INFO`. */
export interface ExecClusterInfo {
  server: string;
  "tls-server-name"?: string;
  "insecure-skip-tls-verify"?: boolean;
  /** Base64 PEM, as in the kubeconfig. */
  "certificate-authority-data"?: string;
  "proxy-url"?: string;
  /** The cluster's `extensions` entry named `client.authentication.k8s.io/exec`. */
  config?: unknown;
}

/** A kubeconfig user's `exec` stanza, checked and with its relative command resolved. */
export interface ExecConfig {
  apiVersion: typeof EXEC_API_VERSIONS[number];
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  /** `Never`, `IfAvailable` (v1beta1's default) or `Always`. */
  interactiveMode: "Never" | "IfAvailable" | "Always";
  installHint?: string;
  /** Sent to the plugin when `provideClusterInfo` is true. */
  cluster?: ExecClusterInfo;
  /** The kubeconfig user's name, for messages. */
  user: string;
}

/** What a plugin returned: a token, a client certificate and key, or both. */
export interface ExecCredentials {
  token?: string;
  certPem?: string;
  keyPem?: string;
  /** Milliseconds since 1970; absent when the credential does not expire. */
  expiresAt?: number;
}

/**
 * The plugin could not be run, failed, or printed something that is not a usable credential.
 * The message is one line naming the plugin (and its stderr when it failed). Retryable: the
 * next request runs the plugin again.
 */
export class ExecPluginError extends Error {
  override name = "ExecPluginError";
}

/** Options for {@linkcode ExecCredentialPlugin}. */
export interface ExecCredentialPluginOptions {
  /** Whether stdin is a terminal. @default Deno.stdin.isTerminal() */
  terminal?: boolean;
  /** The clock. @default Date.now */
  now?: () => number;
}

/** Runs one kubeconfig user's exec plugin and caches what it returns. */
export class ExecCredentialPlugin {
  readonly #config: ExecConfig;
  readonly #terminal: boolean;
  readonly #now: () => number;
  #cached?: ExecCredentials;
  #running?: Promise<ExecCredentials>;

  constructor(config: ExecConfig, options: ExecCredentialPluginOptions = {}) {
    this.#config = config;
    this.#terminal = options.terminal ?? Deno.stdin.isTerminal();
    this.#now = options.now ?? Date.now;
  }

  /**
   * The current credential, running the plugin when there is none or it has expired.
   * @throws {ExecPluginError} when the plugin cannot be run or returns no usable credential.
   */
  get(): Promise<ExecCredentials> {
    const cached = this.#cached;
    if (cached && (cached.expiresAt === undefined || this.#now() < cached.expiresAt)) {
      return Promise.resolve(cached);
    }
    this.#running ??= this.#run().then(
      (credentials) => {
        this.#cached = credentials;
        return credentials;
      },
    ).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Drops `rejected` (a credential the server answered 401 to) so the next `get` runs the plugin. */
  invalidate(rejected: ExecCredentials): void {
    if (this.#cached === rejected) this.#cached = undefined;
  }

  async #run(): Promise<ExecCredentials> {
    const c = this.#config;
    const interactive = c.interactiveMode !== "Never" && this.#terminal;
    if (c.interactiveMode === "Always" && !interactive) {
      throw this.#error(
        "needs an interactive terminal (interactiveMode: Always), and stdin is not one",
      );
    }
    const info = {
      apiVersion: c.apiVersion,
      kind: "ExecCredential",
      spec: { interactive, ...(c.cluster ? { cluster: c.cluster } : {}) },
    };
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command(c.command, {
        args: c.args,
        env: {
          ...Object.fromEntries(c.env.map((e) => [e.name, e.value])),
          KUBERNETES_EXEC_INFO: JSON.stringify(info),
        },
        stdin: interactive ? "inherit" : "null",
        stdout: "piped",
        stderr: interactive ? "inherit" : "piped",
      }).output();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw this.#error(
          `was not found${c.installHint ? `: ${oneLine(c.installHint)}` : ""}`,
          error,
        );
      }
      if (
        error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ) {
        throw this.#error(
          "cannot be run without the run permission: start the operator with `deno task start` (permission set operator-local)",
          error,
        );
      }
      throw this.#error(`could not be started: ${(error as Error).message}`, error);
    }
    if (!output.success) {
      const stderr = oneLine(new TextDecoder().decode(output.stderr));
      throw this.#error(`exited with status ${output.code}${stderr ? `: ${stderr}` : ""}`);
    }
    return this.#parse(new TextDecoder().decode(output.stdout));
  }

  #parse(stdout: string): ExecCredentials {
    let credential: {
      apiVersion?: unknown;
      kind?: unknown;
      status?: Record<string, unknown>;
    };
    try {
      credential = JSON.parse(stdout);
    } catch (error) {
      throw this.#error("printed something that is not JSON", error);
    }
    if (
      credential?.apiVersion !== this.#config.apiVersion || credential.kind !== "ExecCredential"
    ) {
      throw this.#error(
        `printed ${credential?.kind} ${credential?.apiVersion}, not ExecCredential ${this.#config.apiVersion}`,
      );
    }
    const status = credential.status ?? {};
    const text = (key: string) =>
      typeof status[key] === "string" && status[key] ? status[key] : undefined;
    const result: ExecCredentials = {};
    const token = text("token");
    const certPem = text("clientCertificateData");
    const keyPem = text("clientKeyData");
    if (token) result.token = token;
    if (certPem && keyPem) Object.assign(result, { certPem, keyPem });
    else if (certPem || keyPem) {
      throw this.#error(
        "returned a client certificate without its key, or a key without its certificate",
      );
    }
    if (!token && !certPem) throw this.#error("returned neither a token nor a client certificate");
    const expiry = status.expirationTimestamp;
    if (expiry !== undefined) {
      const at = typeof expiry === "string" ? Date.parse(expiry) : NaN;
      if (Number.isNaN(at)) throw this.#error(`returned a bad expirationTimestamp "${expiry}"`);
      result.expiresAt = at;
    }
    return result;
  }

  #error(what: string, cause?: unknown): ExecPluginError {
    return new ExecPluginError(
      `Exec plugin ${this.#config.command} (user ${this.#config.user}) ${what}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, " | ");
}
