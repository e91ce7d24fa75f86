import assert from "node:assert/strict";
import {
  assembleRootfs,
  isLibrary,
  linkedLibraries,
  NONROOT,
  readFileList,
  RootfsError,
} from "../../tools/rootfs.ts";

const DOCKERFILE = new URL("../../Dockerfile", import.meta.url).pathname;
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Every file and symlink under `dir`, as absolute paths inside it. */
async function tree(dir: string, prefix = ""): Promise<string[]> {
  const paths: string[] = [];
  for await (const entry of Deno.readDir(`${dir}${prefix}`)) {
    const path = `${prefix}/${entry.name}`;
    if (entry.isDirectory) paths.push(...await tree(dir, path));
    else paths.push(path);
  }
  return paths.sort();
}

/**
 * Runs `args` inside `root` with an empty environment, as the image's ENTRYPOINT runs.
 * chroot needs root; CI runs as root, and elsewhere this fails loudly rather than skip.
 */
async function inRoot(root: string, args: string[], user?: string) {
  const out = await new Deno.Command("chroot", {
    args: [...(user ? [`--userspec=${user}`] : []), root, ...args],
    clearEnv: true,
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("The image's root filesystem starts Deno with nothing else in it", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "rootfs-test-" });
  try {
    // The deno binary is denort plus tooling: the same dynamic dependencies as the compiled
    // operator, which cannot be built here (deno compile downloads denort).
    const written = await assembleRootfs({ binary: Deno.execPath(), target: "/deno", dir: root });

    await t.step("it holds the binary, the listed files and the user database only", async () => {
      assert.deepEqual(await tree(root), [...written].sort());
      assert.deepEqual(
        [...written].sort(),
        ["/deno", "/etc/group", "/etc/passwd", ...await readFileList()].sort(),
      );
      assert.equal(
        await Deno.readTextFile(`${root}/etc/passwd`),
        `nonroot:x:${NONROOT.uid}:${NONROOT.gid}:nonroot:/home/nonroot:/sbin/nologin\n`,
      );
    });

    await t.step("chroot ROOT /deno --version runs", async () => {
      const { code, stdout, stderr } = await inRoot(root, ["/deno", "--version"]);
      assert.equal(code, 0, stderr);
      assert.match(stdout, new RegExp(`^deno ${Deno.version.deno} `));
    });

    await t.step("a program runs in it as user 65532", async () => {
      await Deno.writeTextFile(
        `${root}/hello.js`,
        "console.log(`hello from ${Deno.build.target} as uid ${Deno.uid()}`);\n",
      );
      const { code, stdout, stderr } = await inRoot(
        root,
        ["/deno", "run", "--allow-sys=uid", "/hello.js"],
        `${NONROOT.uid}:${NONROOT.gid}`,
      );
      assert.equal(code, 0, stderr);
      assert.equal(stdout, `hello from ${Deno.build.target} as uid ${NONROOT.uid}\n`);
    });

    await t.step("there is no shell to run", async () => {
      for (const shell of ["/bin/sh", "/bin/bash", "/usr/bin/sh"]) {
        const { code } = await inRoot(root, [shell, "-c", "true"]);
        assert.equal(code, 127, `${shell} must not exist`);
      }
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("assembleRootfs() refuses a library list that differs from ldd's", async () => {
  const linked = await linkedLibraries(Deno.execPath());
  assert.ok(linked.some((path) => path.endsWith("/libc.so.6")), linked.join(", "));
  const files = await readFileList();
  assert.deepEqual(files.filter(isLibrary).sort(), [...linked].sort(), "the list is exact");
  const dir = await Deno.makeTempDir({ prefix: "rootfs-test-" });
  try {
    const list = `${dir}/list.txt`;
    const withoutLibc = files.filter((path) => !path.endsWith("/libc.so.6"));
    await Deno.writeTextFile(list, withoutLibc.join("\n"));
    const assemble = () =>
      assembleRootfs({ binary: Deno.execPath(), target: "/deno", dir, fileList: list });
    await assert.rejects(
      assemble,
      (e) => e instanceof RootfsError && /libc\.so\.6/.test(e.message),
    );
    await Deno.writeTextFile(list, [...files, "/lib/x86_64-linux-gnu/libz.so.1"].join("\n"));
    await assert.rejects(
      assemble,
      (e) => e instanceof RootfsError && /libz\.so\.1/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("The Dockerfile's final stage is scratch with that root, user 65532 and no RUN", async () => {
  const text = await Deno.readTextFile(DOCKERFILE);
  const build = text.slice(0, text.indexOf("FROM scratch"));
  const final = text.slice(text.indexOf("FROM scratch")).split("\n")
    .filter((line) => line.trim() && !line.startsWith("#"));
  assert.match(build, /^FROM denoland\/deno:\S*2\.9\.6 AS build$/m, "pinned to the project's Deno");
  assert.match(build, /deno task compile/);
  assert.match(
    build,
    /deno run -A tools\/rootfs\.ts dist\/postgres-operator \/postgres-operator \/rootfs/,
  );
  assert.deepEqual(final, [
    "FROM scratch",
    "COPY --from=build /rootfs /",
    `USER ${NONROOT.uid}:${NONROOT.gid}`,
    'ENTRYPOINT ["/postgres-operator"]',
  ]);
  assert.match(text, /COPY image\/ image\//, "the build stage has the list");
});
