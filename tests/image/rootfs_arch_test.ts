import assert from "node:assert/strict";
import {
  type Arch,
  elfDependencies,
  hostArch,
  isLibrary,
  linkedLibraries,
  readFileList,
} from "../../tools/rootfs.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const basename = (path: string) => path.slice(path.lastIndexOf("/") + 1);
/** Debian's multiarch folder and readelf's machine name per image architecture. */
const DEBIAN: Record<Arch, { triplet: string; machine: string }> = {
  amd64: { triplet: "x86_64-linux-gnu", machine: "Advanced Micro Devices X86-64" },
  arm64: { triplet: "aarch64-linux-gnu", machine: "AArch64" },
};

/**
 * Checks an architecture's list against a Deno binary built for it: the libraries listed are
 * exactly its NEEDED entries and its interpreter, the interpreter at the path the binary names,
 * the others in Debian's multiarch folder.
 */
async function assertListFits(arch: Arch, binary: string): Promise<void> {
  const elf = await elfDependencies(binary);
  assert.equal(elf.machine, DEBIAN[arch].machine, `${binary} is built for ${arch}`);
  const listed = (await readFileList(undefined, arch)).filter(isLibrary);
  assert.deepEqual(
    listed.map(basename).sort(),
    [...new Set([...elf.needed, basename(elf.interpreter)])].sort(),
    `image/rootfs.txt [${arch}] against readelf ${binary}`,
  );
  assert.ok(listed.includes(elf.interpreter), `${elf.interpreter} listed`);
  for (const path of listed.filter((path) => path !== elf.interpreter)) {
    assert.equal(path, `/lib/${DEBIAN[arch].triplet}/${basename(path)}`);
  }
}

Deno.test("readFileList() gives each architecture its libraries and both the shared files", async () => {
  const amd64 = await readFileList(undefined, "amd64");
  const arm64 = await readFileList(undefined, "arm64");
  for (const list of [amd64, arm64]) {
    assert.ok(list.includes("/etc/ssl/certs/ca-certificates.crt"));
    assert.equal(list.filter(isLibrary).length, list.length - 1);
  }
  assert.ok(amd64.every((path) => !path.includes("aarch64")));
  assert.ok(arm64.every((path) => !path.includes("x86_64") && !path.includes("lib64")));
});

Deno.test("readelf reads the same libraries ldd resolves for the deno binary we run on", async () => {
  // The readelf check is trusted for the other architecture because it agrees with ldd where
  // both can run.
  const elf = await elfDependencies(Deno.execPath());
  const linked = await linkedLibraries(Deno.execPath());
  assert.deepEqual(
    [...new Set([...elf.needed, basename(elf.interpreter)])].sort(),
    linked.map(basename).sort(),
  );
  await assertListFits(hostArch(), Deno.execPath());
});

Deno.test("The arm64 list fits the @deno/linux-arm64-glibc binary of our Deno version", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rootfs-arm64-" });
  try {
    // The same runtime `deno compile` embeds for aarch64, from the npm registry (npm's cache
    // serves later runs). It cannot run here; readelf reads it.
    const spec = `@deno/linux-arm64-glibc@${Deno.version.deno}`;
    const pack = await new Deno.Command("npm", {
      args: ["pack", spec, "--pack-destination", dir, "--silent"],
      cwd: dir,
    }).output();
    assert.ok(pack.success, `npm pack ${spec}: ${decode(pack.stderr)}`);
    const tarball = decode(pack.stdout).trim().split("\n").at(-1)!;
    const untar = await new Deno.Command("tar", {
      args: ["-xzf", `${dir}/${tarball}`, "-C", dir, "package/deno"],
    }).output();
    assert.ok(untar.success, decode(untar.stderr));
    await assertListFits("arm64", `${dir}/package/deno`);
    // The check can fail: the amd64 list does not fit the arm64 binary.
    await assert.rejects(() => assertListFits("amd64", `${dir}/package/deno`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
