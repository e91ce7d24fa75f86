/**
 * `IMG` for the kustomize tree without editing it: a temporary overlay over `manifests/default`
 * whose `images:` entry sets the operator's image, which is what kubebuilder's
 * `kustomize edit set image controller=${IMG}` achieves by rewriting
 * `config/manager/kustomization.yaml` in place. The overlay lives outside the repository and
 * points at the base by a relative path (kustomize refuses absolute ones).
 *
 * @module
 */
import { relative } from "node:path";

const REPO = new URL("../", import.meta.url).pathname;
/** The kustomization `deno task deploy` applies and the installer renders. */
export const DEFAULT_MANIFESTS = `${REPO}manifests/default`;
/** The image `deno task image` builds and `manifests/manager` deploys unless `IMG` says otherwise. */
export const DEFAULT_IMAGE = "postgres-operator:latest";
/** The name the base's Deployment gives the image, which the overlay's `images:` entry matches. */
const BASE_IMAGE_NAME = "postgres-operator";

/** An image reference split as kustomize's `images:` entries take it. */
export interface ImageRef {
  newName: string;
  newTag?: string;
  digest?: string;
}

/**
 * Splits `repo[:tag][@sha256:…]` (a registry port is not a tag).
 * @throws {Error} for an empty reference or one with whitespace.
 */
export function parseImage(image: string): ImageRef {
  if (!image || /\s/.test(image)) throw new Error(`IMG is not an image reference: "${image}"`);
  const at = image.indexOf("@");
  if (at >= 0) return { newName: image.slice(0, at), digest: image.slice(at + 1) };
  const colon = image.lastIndexOf(":");
  if (colon > image.lastIndexOf("/")) {
    return { newName: image.slice(0, colon), newTag: image.slice(colon + 1) };
  }
  return { newName: image };
}

/** The image from `IMG` in `env`, else {@linkcode DEFAULT_IMAGE}. */
export function imageFromEnv(env: Record<string, string | undefined>): string {
  return env.IMG?.trim() || DEFAULT_IMAGE;
}

/**
 * Writes an overlay of `base` with the operator's image set to `image`, into a new temporary
 * folder the caller removes (`await using`).
 * @returns the folder, for `kubectl apply -k` or `kubectl kustomize`.
 */
export async function imageOverlay(
  image: string,
  base = DEFAULT_MANIFESTS,
): Promise<AsyncDisposable & { dir: string }> {
  const ref = parseImage(image);
  const dir = await Deno.makeTempDir({ prefix: "postgres-operator-overlay-" });
  const entry = [`  - name: ${BASE_IMAGE_NAME}`, `    newName: ${ref.newName}`];
  if (ref.newTag) entry.push(`    newTag: "${ref.newTag}"`);
  if (ref.digest) entry.push(`    digest: ${ref.digest}`);
  await Deno.writeTextFile(
    `${dir}/kustomization.yaml`,
    [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      `  - ${relative(dir, base)}`,
      "images:",
      ...entry,
      "",
    ].join("\n"),
  );
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}
