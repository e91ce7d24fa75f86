/**
 * Assembles the root filesystem of the scratch image: the binary, the files listed in
 * `image/rootfs.txt` for this machine's architecture (exactly the shared libraries the binary
 * links, and CA certificates), and
 * `/etc/passwd` and `/etc/group` naming the unprivileged user 65532. Nothing else: no shell.
 *
 * The Dockerfile's build stage runs it on the compiled operator and copies the result into
 * `FROM scratch`; `tests/image/rootfs_test.ts` runs it on the `deno` binary (the same runtime,
 * with the same dynamic dependencies) and starts it in the result with `chroot`. So the list and
 * the code that uses it are shared, and the library list is checked against `ldd` on every build.
 *
 * Usage: `deno run -A tools/rootfs.ts BINARY PATH_IN_ROOT DIR`.
 *
 * @module
 */

/** The one list of files the image holds besides the binary and the user database. */
export const FILE_LIST = new URL("../image/rootfs.txt", import.meta.url).pathname;

/** The user and group the image runs as (`USER 65532:65532`), as distroless names it. */
export const NONROOT = { uid: 65532, gid: 65532, name: "nonroot" };

/** The root does not fit the binary: `ldd` failed or disagrees with the library list. */
export class RootfsError extends Error {
  override name = "RootfsError";
}

/** The image architectures the file list has sections for (`[amd64]`, `[arm64]`). */
export type Arch = "amd64" | "arm64";

/** The image architecture of this process (`Deno.build.arch` in Docker's words). */
export function hostArch(): Arch {
  switch (Deno.build.arch) {
    case "x86_64":
      return "amd64";
    case "aarch64":
      return "arm64";
  }
}

/**
 * The absolute paths listed in `path` for `arch`: the lines before the first `[section]` and
 * those of the `[arch]` section, without comments and blank lines.
 */
export async function readFileList(path = FILE_LIST, arch: Arch = hostArch()): Promise<string[]> {
  let section: string | undefined;
  const files: string[] = [];
  for (const raw of (await Deno.readTextFile(path)).split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const header = line.match(/^\[(\w+)\]$/);
    if (header) section = header[1];
    else if (section === undefined || section === arch) files.push(line);
  }
  return files;
}

/** What an ELF binary asks the dynamic loader for, read without running it. */
export interface ElfDependencies {
  /** `e_machine`, as readelf names it (`Advanced Micro Devices X86-64`, `AArch64`). */
  machine: string;
  /** The program interpreter (the dynamic loader's path). */
  interpreter: string;
  /** The `NEEDED` sonames, in order. */
  needed: string[];
}

/**
 * Reads `binary`'s machine, interpreter and NEEDED entries with `readelf` (binutils), so that a
 * binary of another architecture can be checked.
 * @throws {RootfsError} when readelf fails or the binary has no interpreter.
 */
export async function elfDependencies(binary: string): Promise<ElfDependencies> {
  const out = await new Deno.Command("readelf", {
    args: ["--file-header", "--program-headers", "--dynamic", "--wide", binary],
    env: { LC_ALL: "C" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new RootfsError(`readelf ${binary} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const machine = text.match(/^\s*Machine:\s*(.+)$/m)?.[1]?.trim() ?? "";
  const interpreter = text.match(/\[Requesting program interpreter: (\S+)\]/)?.[1];
  if (!interpreter) throw new RootfsError(`${binary} has no program interpreter`);
  const needed = [...text.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)]
    .map((m) => m[1]!);
  return { machine, interpreter, needed };
}

/** Whether `path` names a shared library (the dynamic loader included). */
export function isLibrary(path: string): boolean {
  return /\.so(\.\d+)*$/.test(path);
}

/**
 * The shared libraries `binary` loads, as `ldd` resolves them (the kernel's vDSO left out).
 * @throws {RootfsError} when ldd fails or a library is not found.
 */
export async function linkedLibraries(binary: string): Promise<string[]> {
  const out = await new Deno.Command("ldd", { args: [binary], stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new RootfsError(`ldd ${binary} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  const libraries: string[] = [];
  for (const line of text.split("\n")) {
    if (line.includes("not found")) throw new RootfsError(`${binary} needs ${line.trim()}`);
    const path = line.match(/=>\s*(\/\S+)/)?.[1] ?? line.match(/^\s*(\/\S+)/)?.[1];
    if (path) libraries.push(path);
  }
  return libraries;
}

/** Options for {@linkcode assembleRootfs}. */
export interface RootfsOptions {
  /** The executable to put in the root. */
  binary: string;
  /** Its path inside the root, such as `/postgres-operator`. */
  target: string;
  /** The folder to fill; created if missing. */
  dir: string;
  /** @default FILE_LIST */
  fileList?: string;
}

/**
 * Fills `dir` with the binary, the listed files (symlinks resolved: each is copied as a plain
 * file at its listed path) and the user database.
 * @returns the paths written, relative to the root and starting with `/`.
 * @throws {RootfsError} when the listed libraries are not exactly those the binary links.
 */
export async function assembleRootfs(options: RootfsOptions): Promise<string[]> {
  const files = await readFileList(options.fileList);
  const linked = new Set(await linkedLibraries(options.binary));
  const listed = new Set(files.filter(isLibrary));
  const missing = [...linked].filter((path) => !listed.has(path));
  const extra = [...listed].filter((path) => !linked.has(path));
  if (missing.length || extra.length) {
    throw new RootfsError(
      `${options.fileList ?? FILE_LIST} does not match ldd ${options.binary}: ` +
        `missing ${missing.join(", ") || "nothing"}; not needed ${extra.join(", ") || "nothing"}`,
    );
  }
  const copy = async (from: string, to: string) => {
    await Deno.mkdir(`${options.dir}${to.slice(0, to.lastIndexOf("/"))}`, { recursive: true });
    await Deno.copyFile(from, `${options.dir}${to}`);
  };
  // A root must be traversable by the unprivileged user, whatever made the folder (mkdtemp: 0700).
  await Deno.mkdir(options.dir, { recursive: true });
  await Deno.chmod(options.dir, 0o755);
  await copy(options.binary, options.target);
  await Deno.chmod(`${options.dir}${options.target}`, 0o755);
  for (const file of files) await copy(file, file);
  const { uid, gid, name } = NONROOT;
  await Deno.writeTextFile(
    `${options.dir}/etc/passwd`,
    `${name}:x:${uid}:${gid}:${name}:/home/${name}:/sbin/nologin\n`,
  );
  await Deno.writeTextFile(`${options.dir}/etc/group`, `${name}:x:${gid}:\n`);
  return [options.target, ...files, "/etc/passwd", "/etc/group"];
}

if (import.meta.main) {
  const [binary, target, dir] = Deno.args;
  if (!binary || !target?.startsWith("/") || !dir || Deno.args.length !== 3) {
    console.error("Usage: deno run -A tools/rootfs.ts BINARY PATH_IN_ROOT DIR");
    Deno.exit(2);
  }
  const written = await assembleRootfs({ binary, target, dir });
  console.log(`Root filesystem in ${dir}:\n  ${written.join("\n  ")}`);
}
