/**
 * `deno task controlplane`: builds every control-plane binary that is not cached yet (etcd,
 * kube-apiserver, kubectl, kube-controller-manager, kube-scheduler, KWOK) and prints where they
 * are. CI runs it first so the build shows as its own step.
 *
 * @module
 */
import { cacheDir, ensureAll, pinnedVersions } from "./testenv/binaries.ts";

if (import.meta.main) {
  const started = performance.now();
  await ensureAll();
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(
    `Control-plane binaries for ${
      JSON.stringify(pinnedVersions())
    } in ${cacheDir()} (${seconds} s)`,
  );
}
