/**
 * Every `deno task …`, `make …` and `kubectl …` line of the README's shell blocks works as
 * written: each task exists and its `--help` lists every flag the line passes; each make target
 * runs dry (`make -n`) with the line's variables; each kubectl line parses (`--help` after it
 * rejects an unknown flag) and the files it names exist.
 */
import assert from "node:assert/strict";
import { binaryPath } from "../../tools/testenv/mod.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The commands of the README's sh/bash/console blocks, continuation lines joined. */
export function readmeCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const [, lang, body] of markdown.matchAll(/```(sh|bash|shell|console)\n([\s\S]*?)```/g)) {
    let pending = "";
    for (const raw of body!.split("\n")) {
      let line = raw.trim();
      if (!pending && lang === "console") {
        if (!line.startsWith("$ ")) continue;
        line = line.slice(2);
      }
      if (line.endsWith("\\")) {
        pending += `${line.slice(0, -1).trimEnd()} `;
        continue;
      }
      line = (pending + line).replace(/^([A-Z_]+=\S+\s+)+/, "").replace(/^sudo\s+/, "");
      pending = "";
      if (/^(deno task|make|kubectl)\s/.test(`${line} `)) commands.push(line);
    }
  }
  return commands;
}

/** The words of a shell line's first command: quotes removed, a pipe, redirect or comment ends it. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = undefined;
      else word = (word ?? "") + char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word ??= "";
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if ((char === "#" && word === undefined) || "|;<>&".includes(char)) break;
    else word = (word ?? "") + char;
  }
  if (word !== undefined) words.push(word);
  return words.map((w) => w.replace(/^~\//, `${Deno.env.get("HOME") ?? "/root"}/`));
}

const commands = readmeCommands(await Deno.readTextFile(`${REPO}README.md`));
const tasks = JSON.parse(await Deno.readTextFile(`${REPO}deno.json`)).tasks as Record<
  string,
  unknown
>;

async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(command, {
    args,
    cwd: REPO,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  return { code: out.code, text: decode(out.stdout) + decode(out.stderr) };
}

Deno.test("readmeCommands() and shellWords() read lines as a shell would", () => {
  const md = "```sh\nFOO=1 deno task x -- --a 'b c' # note\nkubectl get \\\n  pods\n```\n" +
    "```console\n$ make help\noutput\n```\n";
  assert.deepEqual(readmeCommands(md), [
    "deno task x -- --a 'b c' # note",
    "kubectl get pods",
    "make help",
  ]);
  assert.deepEqual(shellWords("deno task x -- --a 'b c' # note"), [
    "deno",
    "task",
    "x",
    "--",
    "--a",
    "b c",
  ]);
});

Deno.test("Every `deno task` line of the README names a task whose --help lists its flags", async () => {
  const lines = commands.filter((c) => c.startsWith("deno task "));
  assert.ok(lines.length >= 10, `${lines.length} deno task lines`);
  const help = new Map<string, string>();
  const problems: string[] = [];
  for (const line of lines) {
    const [, , task, ...args] = shellWords(line) as [string, string, string, ...string[]];
    if (!(task in tasks)) {
      problems.push(`${line}: no task ${task}`);
      continue;
    }
    // `deno task test` is `deno test`: its flags are Deno's.
    if (task === "test") continue;
    if (!help.has(task)) {
      const out = await run(Deno.execPath(), ["task", "-q", task, "--help"]);
      if (out.code !== 0) problems.push(`deno task ${task} --help exited ${out.code}: ${out.text}`);
      help.set(task, out.text);
    }
    for (const flag of args.filter((a) => a.startsWith("--") && a !== "--")) {
      const name = flag.split("=")[0]!;
      const listed = new RegExp(`${name.replace(/[-]/g, "\\-")}(?![\\w-])`);
      if (!listed.test(help.get(task)!)) problems.push(`${line}: ${task} --help lacks ${name}`);
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("Every `make` line of the README runs dry with its variables", async () => {
  const lines = commands.filter((c) => c.startsWith("make "));
  assert.ok(lines.length >= 5, `${lines.length} make lines`);
  const problems: string[] = [];
  for (const line of lines) {
    const [, ...args] = shellWords(line);
    const out = await run("make", ["-n", ...args]);
    if (out.code !== 0) problems.push(`make -n ${args.join(" ")} exited ${out.code}: ${out.text}`);
  }
  const help = await run("make", ["help"]);
  assert.equal(help.code, 0, help.text);
  for (const line of lines) {
    const target = shellWords(line)[1]!;
    if (!help.text.includes(target)) problems.push(`make help does not list ${target}`);
  }
  assert.deepEqual(problems, []);
});

Deno.test("Every `kubectl` line of the README parses, and the files it names exist", async () => {
  const kubectl = await binaryPath("kubectl");
  const lines = commands.filter((c) => c.startsWith("kubectl "));
  assert.ok(lines.length >= 8, `${lines.length} kubectl lines`);
  const problems: string[] = [];
  for (const line of lines) {
    const [, ...args] = shellWords(line);
    // --help after the line: kubectl rejects unknown flags and commands, and acts on nothing.
    const out = await run(kubectl, [...args, "--help"], { KUBECONFIG: "/nonexistent" });
    if (out.code !== 0) problems.push(`${line}: exited ${out.code}: ${out.text.slice(0, 300)}`);
    for (let i = 0; i < args.length - 1; i++) {
      if (!["-k", "-f", "--kustomize", "--filename"].includes(args[i]!)) continue;
      const path = args[i + 1]!;
      if (!/^https?:/.test(path) && !(await Deno.stat(`${REPO}${path}`).catch(() => undefined))) {
        problems.push(`${line}: ${path} does not exist`);
      }
    }
  }
  assert.deepEqual(problems, []);
});
