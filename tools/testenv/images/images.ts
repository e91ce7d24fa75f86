/**
 * The real node's images, built here from Debian packages and this repository (no registry is
 * reachable), cached outside the repository under a key of their inputs, and imported into the
 * node's containerd:
 *
 * - `pause`: the pod sandbox, our `tools/controlplane/pause` program alone;
 * - `postgres:17` (trixie) and `postgres:15` (bookworm): Debian's PostgreSQL with our entry
 *   point (`image/postgres/docker-entrypoint.sh`), which keeps the official image's contract:
 *   stand-ins for the official images, which carry no backup tool;
 * - `postgresql:17` (`postgres-operator/postgresql:17`): the project's own image, the same plus
 *   `barman-cli-cloud` (WAL archiving, base backups and restores to S3) and `boto3`;
 * - `operator`: the shipped scratch image's root filesystem (tools/rootfs.ts) with the `deno`
 *   runtime and the sources in place of the compiled binary, which needs `denort` from the
 *   internet; it runs with the same `operator` permission set.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { assembleRootfs } from "../../rootfs.ts";
import { shippedV8Flags } from "../../compile.ts";
import { binaryPath, cacheRoot } from "../binaries.ts";
import { sh } from "../command.ts";
import { type ImageConfig, writeOciLayout } from "./oci_layout.ts";

/** Every image the harness can build. */
export type ImageName = "pause" | "postgres:17" | "postgres:15" | "postgresql:17" | "operator";

interface Recipe {
  /** The references the image is imported as. */
  names: string[];
  config: ImageConfig;
  /** What the image is made of, beyond `config`: a change rebuilds it. */
  inputs(): Promise<string[]>;
  /** Writes the image's single layer, an uncompressed root filesystem tar, to `tar`. */
  buildLayer(tar: string, work: string): Promise<void>;
}

const REPO = new URL("../../../", import.meta.url).pathname;
const ENTRYPOINT = `${REPO}image/postgres/docker-entrypoint.sh`;
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Bumped when the recipes change in a way their inputs do not show. */
const RECIPE_VERSION = "1";

/** The sandbox image's reference, as containerd's `sandbox_image` names it. */
export const PAUSE_IMAGE = "localhost/postgres-operator/pause:1";
/** The project's PostgreSQL image with the backup tool, `postgres-operator/postgresql:17`. */
export const POSTGRESQL_IMAGE = "docker.io/postgres-operator/postgresql:17";
/** The operator image's reference: the one `manifests/manager` and `deno task image` use. */
export const OPERATOR_IMAGE = "docker.io/library/postgres-operator:latest";

const RECIPES: Record<ImageName, Recipe> = {
  "pause": {
    names: [PAUSE_IMAGE],
    config: { Entrypoint: ["/pause"], User: "65535:65535" },
    inputs: async () => [await fileHash(await binaryPath("pause"))],
    buildLayer: async (tar, work) => {
      await Deno.copyFile(await binaryPath("pause"), `${work}/pause`);
      await Deno.chmod(`${work}/pause`, 0o755);
      await tarDirectory(work, tar);
    },
  },
  "postgres:17": postgres(17, "trixie"),
  "postgres:15": postgres(15, "bookworm"),
  "postgresql:17": postgres(17, "trixie", {
    names: [POSTGRESQL_IMAGE],
    packages: ["barman-cli-cloud", "python3-boto3"],
  }),
  "operator": {
    names: [OPERATOR_IMAGE],
    config: {
      // The V8 flags `deno task compile` builds the shipped binary with, so the pod runs as the
      // image that ships does (DENO_V8_FLAGS would reach `deno run`, not a compiled binary).
      Entrypoint: [
        "/deno",
        "run",
        "-P=operator",
        "--cached-only",
        `--v8-flags=${shippedV8Flags().join(",")}`,
        "/app/main.ts",
      ],
      Env: ["DENO_DIR=/deno-dir", "DENO_NO_UPDATE_CHECK=1", "NO_COLOR=1"],
      WorkingDir: "/app",
      User: "65532:65532",
    },
    inputs: async () => [
      Deno.version.deno,
      // Paths relative to the repository: every clone of the same sources shares the image.
      ...await Promise.all(
        operatorSources().map(async (f) => `${f.slice(REPO.length)} ${await fileHash(f)}`),
      ),
    ],
    buildLayer: async (tar, work) => {
      await assembleRootfs({ binary: Deno.execPath(), target: "/deno", dir: work });
      for (const file of operatorSources()) {
        const target = `${work}/app/${file.slice(REPO.length)}`;
        await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
        await Deno.copyFile(file, target);
      }
      // The npm packages and the module cache, read-only at run time (`--cached-only`).
      await sh("deno", ["cache", "--frozen", "main.ts"], {
        cwd: `${work}/app`,
        env: { DENO_DIR: `${work}/deno-dir`, NO_COLOR: "1" },
      });
      await sh("chmod", ["-R", "a+rX", `${work}/app`, `${work}/deno-dir`]);
      await tarDirectory(work, tar);
    },
  },
};

function postgres(
  major: number,
  suite: string,
  extra: { names?: string[]; packages?: string[] } = {},
): Recipe {
  // curl: the object-store checks from a pod (SigV4 signing, the cluster CA) run with it.
  const packages = [
    `postgresql-${major}`,
    "tzdata",
    "ca-certificates",
    "curl",
    ...extra.packages ?? [],
  ];
  return {
    // Two names, so a test can change `spec.image` and roll the same software.
    names: extra.names ??
      [`docker.io/library/postgres:${major}`, `docker.io/library/postgres:${major}-${suite}`],
    config: {
      Entrypoint: ["docker-entrypoint.sh"],
      Cmd: ["postgres"],
      Env: [
        `PATH=${PATH}:/usr/lib/postgresql/${major}/bin`,
        `PG_MAJOR=${major}`,
        "PGDATA=/var/lib/postgresql/data",
        "LANG=C.UTF-8",
      ],
      StopSignal: "SIGINT",
      ExposedPorts: { "5432/tcp": {} },
      Volumes: { "/var/lib/postgresql/data": {} },
    },
    inputs: async () => [suite, ...packages, await fileHash(ENTRYPOINT)],
    buildLayer: async (tar) => {
      const user = [
        `echo 'postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash' >> "$1/etc/passwd"`,
        `echo 'postgres:x:999:' >> "$1/etc/group"`,
        `echo 'postgres:*:20000:0:99999:7:::' >> "$1/etc/shadow"`,
      ].join("; ");
      const finish = [
        "set -e",
        // The package's own cluster: the entry point initialises $PGDATA instead.
        `rm -rf "$1/var/lib/postgresql/${major}" "$1/etc/postgresql/${major}"`,
        `sed -ri "s!^#?(listen_addresses)\\s*=\\s*\\S+.*!\\1 = '*'!" ` +
        `"$1/usr/share/postgresql/${major}/postgresql.conf.sample"`,
        `install -d -m 2775 -o 999 -g 999 "$1/run/postgresql"`,
        `install -d -m 1777 -o 999 -g 999 "$1/var/lib/postgresql/data"`,
        `install -d "$1/docker-entrypoint-initdb.d"`,
        `chmod 755 "$1/usr/local/bin/docker-entrypoint.sh"`,
        `ln -s usr/local/bin/docker-entrypoint.sh "$1/docker-entrypoint.sh"`,
      ].join("; ");
      await sh("mmdebstrap", [
        "--quiet",
        "--variant=essential",
        `--include=${packages.join(",")}`,
        ...["doc", "man", "info", "locale", "lintian"].map((dir) =>
          `--dpkgopt=path-exclude=/usr/share/${dir}/*`
        ),
        `--essential-hook=${user}`,
        `--customize-hook=copy-in ${ENTRYPOINT} /usr/local/bin`,
        `--customize-hook=${finish}`,
        suite,
        tar,
        "http://deb.debian.org/debian",
      ]);
    },
  };
}

/**
 * The OCI layout folder of an image, building it first if no cached one matches its inputs.
 * @throws {Error} when a build step fails; the error names the step and holds its output.
 */
export function ensureImage(name: ImageName): Promise<string> {
  // One build per image and process: nodes started in parallel ask for the same images.
  let pending = inFlight.get(name);
  if (!pending) {
    pending = buildImage(name).finally(() => inFlight.delete(name));
    inFlight.set(name, pending);
  }
  return pending;
}

const inFlight = new Map<ImageName, Promise<string>>();

async function buildImage(name: ImageName): Promise<string> {
  const recipe = RECIPES[name];
  const key = createHash("sha256")
    .update(JSON.stringify([RECIPE_VERSION, recipe.names, recipe.config, await recipe.inputs()]))
    .digest("hex").slice(0, 16);
  const slug = name.replace(":", "-");
  const dir = `${cacheRoot()}/images/${slug}-${key}`;
  if (await exists(`${dir}/index.json`)) return dir;
  const started = performance.now();
  console.error(`testenv: building image ${name} (first run only; can take minutes)…`);
  const work = await Deno.makeTempDir({ prefix: "postgres-operator-image-" });
  const partial = `${dir}.partial-${Deno.pid}`;
  try {
    await Deno.mkdir(`${work}/root`);
    await recipe.buildLayer(`${work}/layer.tar`, `${work}/root`);
    await writeOciLayout(partial, `${work}/layer.tar`, recipe.config, recipe.names);
    // Rename last, so a concurrent or interrupted run never sees half an image.
    try {
      await Deno.rename(partial, dir);
    } catch (error) {
      // Another process finished the same image first: its copy is as good as ours.
      if (!(await exists(`${dir}/index.json`))) throw error;
    }
    // Older builds of the same image (the operator's changes with every source edit).
    for (const entry of Deno.readDirSync(`${cacheRoot()}/images`)) {
      if (entry.name.startsWith(`${slug}-`) && entry.name !== `${slug}-${key}`) {
        await Deno.remove(`${cacheRoot()}/images/${entry.name}`, { recursive: true });
      }
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
    await Deno.remove(partial, { recursive: true }).catch(() => {});
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.error(`testenv: built image ${name} in ${seconds} s`);
  return dir;
}

/** The references an image is imported as. */
export function imageNames(name: ImageName): string[] {
  return RECIPES[name].names;
}

/** The files of the operator image's `/app`: the entry point, sources and configuration. */
function operatorSources(): string[] {
  const files = ["main.ts", "deno.json", "deno.lock"].map((f) => `${REPO}${f}`);
  const walk = (dir: string) => {
    for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile) files.push(path);
    }
  };
  walk(`${REPO}src`);
  return files;
}

async function tarDirectory(dir: string, tar: string): Promise<void> {
  await sh("tar", ["--numeric-owner", "-C", dir, "-cf", tar, "."]);
}

async function fileHash(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}
