import assert from "node:assert/strict";

Deno.test("KubeClient.watch() keeps none of the bytes it has passed on", async () => {
  // In a child process, for --expose-gc: the probe counts what a full GC cannot free.
  const probe = new URL("./watch_retention_probe.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", probe],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(code, 0, decode(stderr));
  const { seen, retainedBytes } = JSON.parse(decode(stdout).trim().split("\n").at(-1)!);
  assert.equal(seen, 4_000);
  // 4,000 events of 4 KiB are 16 MiB: a watch that held its chunks would keep all of them.
  assert.ok(retainedBytes < 2 * 1024 * 1024, `${retainedBytes} bytes still held`);
});
