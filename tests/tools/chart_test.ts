import assert from "node:assert/strict";
import { readyChartSvg, writeReadyChart } from "../../tools/load/chart.ts";

Deno.test("readyChartSvg() renders an SVG with one named line per series", async () => {
  const svg = await readyChartSvg([
    { name: "floor", seconds: [0.5, 1.25, 2] },
    { name: "ours #1", seconds: [2.5, 1, 3] },
    { name: "peer #1", seconds: [] },
  ], "Ready over time");
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>$/);
  for (const name of ["floor", "ours #1", "peer #1", "Ready over time"]) {
    assert.ok(svg.includes(name), `the SVG names ${name}`);
  }
  assert.ok(svg.includes("seconds since the first create"), "the x axis is titled");
});

Deno.test("writeReadyChart() creates the folder and writes the SVG", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/perf/chart.svg`;
    await writeReadyChart(path, [{ name: "floor", seconds: [1] }], "one");
    const text = await Deno.readTextFile(path);
    assert.ok(text.startsWith("<svg") && text.includes("floor"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
