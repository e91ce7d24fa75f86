/**
 * `deno task helm ARGS…`: runs Helm, built from its pinned Go module
 * (`tools/controlplane/helm`, `helm.sh/helm/v3/cmd/helm`) into the cache outside the repository
 * on first use, or the one `TEST_ASSET_HELM` names, as the tests do. `deno task helm lint`
 * alone lints the chart in `charts/postgres-operator`.
 *
 * The chart's `files` is a link to `manifests/`, so Helm prints one line on stderr saying it
 * followed a symbolic link; that is expected.
 *
 * @module
 */
import { binaryPath } from "./testenv/binaries.ts";

/** The chart, kept in lockstep with manifests/ (tests/helm/chart_test.ts). */
export const CHART = new URL("../charts/postgres-operator", import.meta.url).pathname;

if (import.meta.main) {
  const args = Deno.args.length === 1 && Deno.args[0] === "lint"
    ? ["lint", "--strict", CHART]
    : Deno.args;
  let helm: string;
  try {
    helm = await binaryPath("helm");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.error(
      "helm: go is not installed (not on PATH); Go 1.26 builds helm once, or set TEST_ASSET_HELM",
    );
    Deno.exit(1);
  }
  Deno.exit((await new Deno.Command(helm, { args }).spawn().status).code);
}
