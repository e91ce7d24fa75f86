/**
 * A chart of Ready Databases over time (one line per run: floor, ours, the peer), rendered to
 * SVG without a browser: vega-lite compiles the spec to vega, and vega's headless `View`
 * renders it with `toSVG()`, which needs no canvas.
 *
 * @module
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** One line of the chart. */
export interface ReadySeries {
  /** Legend label, such as `ours #2`. */
  name: string;
  /** Seconds since the run's first create at which each Database turned Ready, any order. */
  seconds: number[];
}

/** The cumulative count of Ready Databases at each moment one turned Ready, from (0, 0). */
function points(series: ReadySeries): { series: string; seconds: number; ready: number }[] {
  const sorted = [...series.seconds].sort((a, b) => a - b);
  return [
    { series: series.name, seconds: 0, ready: 0 },
    ...sorted.map((seconds, i) => ({
      series: series.name,
      seconds: Math.round(seconds * 1000) / 1000,
      ready: i + 1,
    })),
  ];
}

/**
 * Renders Ready Databases over time as an SVG document.
 * @param series the lines to draw, in legend order
 * @param title the chart's title
 * @returns the SVG text
 */
export async function readyChartSvg(series: ReadySeries[], title: string): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 640,
    height: 360,
    background: "white",
    data: { values: series.flatMap(points) },
    mark: { type: "line", interpolate: "step-after" },
    encoding: {
      x: { field: "seconds", type: "quantitative", title: "seconds since the first create" },
      y: { field: "ready", type: "quantitative", title: "Databases Ready" },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        sort: series.map((s) => s.name),
      },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Writes {@linkcode readyChartSvg} to `path`, creating its folder.
 * @param path where the SVG goes, such as `docs/perf/bench-peer.svg`
 * @param series the lines to draw
 * @param title the chart's title
 */
export async function writeReadyChart(
  path: string,
  series: ReadySeries[],
  title: string,
): Promise<void> {
  const folder = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(folder, { recursive: true });
  await Deno.writeTextFile(path, await readyChartSvg(series, title));
}
