/**
 * `deno task image | push | buildx | kind:load | install | uninstall | deploy | undeploy |
 * installer`: thin wrappers around the container tool, `kind load docker-image` and `kubectl`,
 * which the `Makefile` calls under kubebuilder's target names. Arguments after the task name go
 * to the tool (`deno task kind:load --name my-cluster`). A missing tool is reported in one line,
 * with exit status 1.
 *
 * The environment carries kubebuilder's variables: `IMG` (the operator's image, default
 * `postgres-operator:latest`), `CONTAINER_TOOL` (`docker` or `podman`), `PLATFORMS` (the
 * multi-arch build's, default `linux/amd64,linux/arm64`) and `INSTALLER` (where `installer`
 * writes, default `dist/install.yaml`). `deploy` and `installer` set the image through an overlay
 * (`image_overlay.ts`), so the repository is never edited.
 *
 * @module
 */
import { gitCommit } from "./compile.ts";
import { DEFAULT_IMAGE, DEFAULT_MANIFESTS, imageFromEnv, imageOverlay } from "./image_overlay.ts";
import { helpAsked, taskArgv } from "./task_args.ts";

const REPO = new URL("../", import.meta.url).pathname;
/** The image `deno task image` builds unless `IMG` names another. */
export const IMAGE = DEFAULT_IMAGE;
const CRD = `${REPO}manifests/crd`;
/** Where `deno task installer` writes unless `INSTALLER` says otherwise. */
export const INSTALLER = `${REPO}dist/install.yaml`;
/** The architectures of `deno task buildx` unless `PLATFORMS` says otherwise. */
export const PLATFORMS = "linux/amd64,linux/arm64";

/** Every task, for the usage line. */
export const TASKS = [
  "image",
  "push",
  "buildx",
  "kind:load",
  "install",
  "uninstall",
  "deploy",
  "undeploy",
  "installer",
];

const INSTALL: Record<string, string> = {
  docker: "https://docs.docker.com/get-docker/",
  podman: "https://podman.io/docs/installation",
  kind: "https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
  kubectl: "https://kubernetes.io/docs/tasks/tools/",
};

type Env = Record<string, string | undefined>;

/** What one task runs: a command, and optionally what it needs around it. */
interface Plan {
  command: string[];
  /** The folder `kubectl -k` reads, made for this run (an overlay setting the image). */
  overlay?: string;
  /** Write the command's standard output to this file instead of the terminal. */
  output?: string;
  /** Variables added to the tool's environment. */
  env?: Record<string, string>;
}

function containerTool(env: Env): string {
  const tool = env.CONTAINER_TOOL?.trim() || "docker";
  if (tool !== "docker" && tool !== "podman") {
    throw new ShipError(`CONTAINER_TOOL must be docker or podman, not "${tool}"`);
  }
  return tool;
}

/** A task cannot run as asked (an unknown task, a bad variable); exit status 2. */
export class ShipError extends Error {
  override name = "ShipError";
}

/** The command line of `task`; `overlay` marks tasks that read the image overlay. */
async function planOf(task: string, env: Env): Promise<Plan> {
  const image = imageFromEnv(env);
  switch (task) {
    case "image":
      return {
        command: [
          containerTool(env),
          "build",
          "-t",
          image,
          "--build-arg",
          `COMMIT=${await gitCommit()}`,
          REPO,
        ],
      };
    case "push":
      return { command: [containerTool(env), "push", image] };
    case "buildx": {
      // One image per platform, each built natively (under emulation) so that ldd in the build
      // stage sees the target's libraries; pushed as one multi-arch manifest list.
      const platforms = env.PLATFORMS?.trim() || PLATFORMS;
      const commit = `COMMIT=${await gitCommit()}`;
      return containerTool(env) === "podman"
        ? {
          command: [
            "podman",
            "build",
            "--platform",
            platforms,
            "--manifest",
            image,
            "--build-arg",
            commit,
            REPO,
          ],
        }
        : {
          command: [
            "docker",
            "buildx",
            "build",
            "--platform",
            platforms,
            "--push",
            "-t",
            image,
            "--build-arg",
            commit,
            REPO,
          ],
        };
    }
    case "kind:load":
      // kind reads podman's images only with its provider switch.
      return {
        command: ["kind", "load", "docker-image", image],
        ...(containerTool(env) === "podman" && !env.KIND_EXPERIMENTAL_PROVIDER
          ? { env: { KIND_EXPERIMENTAL_PROVIDER: "podman" } }
          : {}),
      };
    case "install":
      return { command: ["kubectl", "apply", "-k", CRD] };
    case "uninstall":
      return { command: ["kubectl", "delete", "--ignore-not-found=true", "-k", CRD] };
    case "deploy":
      return { command: ["kubectl", "apply", "-k"], overlay: image };
    case "undeploy":
      // Deletes the CRD too, and with it every Database: kubebuilder's `make undeploy`.
      return { command: ["kubectl", "delete", "--ignore-not-found=true", "-k", DEFAULT_MANIFESTS] };
    case "installer":
      return {
        command: ["kubectl", "kustomize"],
        overlay: image,
        output: env.INSTALLER?.trim() || INSTALLER,
      };
  }
  throw new ShipError(`unknown task "${task}"; use ${TASKS.join(", ")}`);
}

/**
 * Runs `task` with `extra` arguments appended, output going to this process's (or, for
 * `installer`, to the installer file).
 * @returns the tool's exit code; 1 when the tool is missing, 2 for an unknown task or variable.
 */
export async function ship(task: string, extra: string[] = [], env: Env = {}): Promise<number> {
  let plan: Plan;
  try {
    plan = await planOf(task, env);
  } catch (error) {
    if (!(error instanceof ShipError)) throw error;
    console.error(`ship: ${error.message}`);
    return 2;
  }
  extra = taskArgv(extra);
  if (helpAsked(extra)) {
    console.log(
      `usage: deno task ${task} [arguments for ${plan.command[0]}]\n  runs: ` +
        `${plan.command.join(" ")}${plan.overlay ? " <overlay of manifests with $IMG>" : ""}` +
        `${plan.output ? ` > ${plan.output}` : ""}`,
    );
    return 0;
  }
  const [tool, ...args] = plan.command as [string, ...string[]];
  await using overlay = plan.overlay === undefined ? undefined : await imageOverlay(plan.overlay);
  if (overlay) args.push(overlay.dir);
  try {
    const child = new Deno.Command(tool, {
      args: [...args, ...extra],
      ...(plan.env ? { env: plan.env } : {}),
      stdout: plan.output ? "piped" : "inherit",
    }).spawn();
    if (!plan.output) return (await child.status).code;
    const out = await child.output();
    if (out.success) {
      await Deno.mkdir(plan.output.slice(0, plan.output.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(plan.output, out.stdout);
      console.error(`ship: wrote ${plan.output} (image ${imageFromEnv(env)})`);
    }
    return out.code;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.error(`ship: ${tool} is not installed (not on PATH); install it: ${INSTALL[tool]}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await ship(Deno.args[0] ?? "", Deno.args.slice(1), Deno.env.toObject()));
}
