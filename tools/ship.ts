/**
 * `deno task image | kind:load | deploy | undeploy`: thin wrappers around `docker build`,
 * `kind load docker-image` and `kubectl apply/delete -k manifests/default`. Arguments after the
 * task name go to the tool (`deno task kind:load --name my-cluster`). A missing tool is reported
 * in one line, with exit status 1.
 *
 * @module
 */
import { gitCommit } from "./compile.ts";

const REPO = new URL("../", import.meta.url).pathname;
/** The image `deno task image` builds; manifests/manager/kustomization.yaml deploys it. */
export const IMAGE = "postgres-operator:latest";
const MANIFESTS = `${REPO}manifests/default`;

const INSTALL: Record<string, string> = {
  docker: "https://docs.docker.com/get-docker/",
  kind: "https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
  kubectl: "https://kubernetes.io/docs/tasks/tools/",
};

/** The command line of each task. */
async function commandOf(task: string): Promise<string[] | undefined> {
  switch (task) {
    case "image":
      return ["docker", "build", "-t", IMAGE, "--build-arg", `COMMIT=${await gitCommit()}`, REPO];
    case "kind:load":
      return ["kind", "load", "docker-image", IMAGE];
    case "deploy":
      return ["kubectl", "apply", "-k", MANIFESTS];
    case "undeploy":
      // Deletes the CRD too, and with it every Database: kubebuilder's `make undeploy`.
      return ["kubectl", "delete", "--ignore-not-found=true", "-k", MANIFESTS];
  }
}

/**
 * Runs `task` with `extra` arguments appended, output going to this process's.
 * @returns the tool's exit code; 1 when the tool is missing, 2 for an unknown task.
 */
export async function ship(task: string, extra: string[] = []): Promise<number> {
  const command = await commandOf(task);
  if (!command) {
    console.error(`ship: unknown task "${task}"; use image, kind:load, deploy or undeploy`);
    return 2;
  }
  const [tool, ...args] = command as [string, ...string[]];
  try {
    return (await new Deno.Command(tool, { args: [...args, ...extra] }).spawn().status).code;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.error(`ship: ${tool} is not installed (not on PATH); install it: ${INSTALL[tool]}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await ship(Deno.args[0] ?? "", Deno.args.slice(1)));
}
