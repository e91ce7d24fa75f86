/**
 * The layout's promises, checked on the sources: no file under `src/` over 300 lines, no import
 * cycle (walked with `deno info --json` over every module of `src/`), `src/runtime/` knows
 * nothing of Databases, each database room imports only the rooms below it and only through
 * their `mod.ts`, and the scripts that run inside pods pass shellcheck.
 */
import assert from "node:assert/strict";

const REPO = new URL("../", import.meta.url);
const SRC = new URL("src/", REPO).pathname;

function sources(dir: string, suffix: string, out: string[] = []): string[] {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) sources(`${path}/`, suffix, out);
    else if (path.endsWith(suffix)) out.push(path);
  }
  return out.sort();
}

/** Each module of `src/` (relative path) with the `src/` modules it imports. */
async function importGraph(): Promise<Map<string, string[]>> {
  const entry = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      entry,
      sources(SRC, ".ts").map((f) => `import "file://${f}";\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", `--config=${new URL("deno.json", REPO).pathname}`, entry],
      stdout: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    assert.ok(out.success, "deno info failed");
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
      }[];
    };
    const prefix = `file://${SRC}`;
    const graph = new Map<string, string[]>();
    for (const module of info.modules) {
      if (!module.specifier.startsWith(prefix)) continue;
      const deps = (module.dependencies ?? []).flatMap((
        d,
      ) => [d.code?.specifier, d.type?.specifier])
        .filter((s): s is string => s !== undefined)
        .filter((s) => s.startsWith(prefix) && s.endsWith(".ts"))
        .map((s) => s.slice(prefix.length));
      graph.set(module.specifier.slice(prefix.length), deps);
    }
    return graph;
  } finally {
    await Deno.remove(entry);
  }
}

/** The cycles of `graph`, each as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (state.get(dep) === "open") found.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

/** The database rooms, each with the rooms it may import (docs/ARCHITECTURE.md). */
const ROOMS: Record<string, string[]> = {
  api: [],
  objects: ["api"],
  tls: ["api"],
  credentials: ["api", "objects", "tls"],
  services: ["api", "objects"],
  backup: ["api", "objects", "tls"],
  instances: ["api", "objects", "credentials", "backup", "tls"],
  ha: ["api", "objects", "credentials", "instances"],
  status: ["api", "instances"],
  reconcile: [
    "api",
    "objects",
    "credentials",
    "services",
    "instances",
    "ha",
    "status",
    "backup",
    "tls",
  ],
};

Deno.test("no file under src/ is longer than 300 lines", () => {
  const long = sources(SRC, ".ts")
    .map((f) => ({
      f: f.slice(SRC.length),
      lines: Deno.readTextFileSync(f).split("\n").length - 1,
    }))
    .filter(({ lines }) => lines > 300);
  assert.deepEqual(long, []);
});

Deno.test("cycles() finds a cycle, so the check below can fail", () => {
  const graph = new Map([["a.ts", ["b.ts"]], ["b.ts", ["c.ts"]], ["c.ts", ["a.ts"]]]);
  assert.deepEqual(cycles(graph), [["a.ts", "b.ts", "c.ts", "a.ts"]]);
});

Deno.test("src/ has no import cycle, and the rooms import as the plan says", async () => {
  const graph = await importGraph();
  assert.ok(graph.size > 50, `only ${graph.size} modules seen`);
  assert.deepEqual(cycles(graph), []);
  const wrong: string[] = [];
  for (const [module, deps] of graph) {
    for (const dep of deps) {
      if (module.startsWith("runtime/") && dep.startsWith("database/")) {
        wrong.push(`${module} -> ${dep}: the runtime knows nothing of Databases`);
      }
      const from = /^database\/([a-z_]+)\//.exec(module)?.[1];
      const to = /^database\/([a-z_]+)\/(.+)$/.exec(dep);
      if (!from || !to || from === to[1]) continue;
      if (!ROOMS[from]?.includes(to[1]!)) wrong.push(`${module} -> ${dep}: not a room below`);
      else if (to[2] !== "mod.ts") wrong.push(`${module} -> ${dep}: not through mod.ts`);
    }
  }
  for (const room of Object.keys(ROOMS)) {
    assert.ok(graph.has(`database/${room}/mod.ts`), `database/${room}/mod.ts is missing`);
  }
  assert.deepEqual(wrong, []);
});

Deno.test("the scripts that run inside pods pass shellcheck", async () => {
  const scripts = sources(SRC, ".sh");
  assert.ok(scripts.length > 0);
  const out = await new Deno.Command("shellcheck", {
    args: ["--shell=bash", "--severity=style", ...scripts],
    stdout: "piped",
    stderr: "piped",
  }).output().catch((error) => {
    throw new Error("shellcheck is needed (Debian package shellcheck)", { cause: error });
  });
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text);
});
