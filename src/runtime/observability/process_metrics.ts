/**
 * The process metrics of Prometheus' client libraries (`process_cpu_seconds_total`,
 * `process_resident_memory_bytes`, `process_open_fds`, `process_start_time_seconds`) and
 * prom-client's `nodejs_heap_size_used_bytes`/`nodejs_heap_size_total_bytes`, read at scrape
 * time.
 *
 * Why not prom-client's `collectDefaultMetrics`: it reads `/proc/self/*`, and Deno 2.9 refuses
 * those paths to anything short of `--allow-all` (`NotCapable: Requires all access to
 * "/proc/self/status"`). Under the operator's permission set it then reports an RSS and open
 * file count of 0, which looks like data. Here CPU comes from `process.cpuUsage()` (getrusage)
 * and memory from `Deno.memoryUsage()`, which need no permission; `process_open_fds` is left
 * out, rather than reported as 0, when `/proc/self/fd` cannot be read.
 *
 * @module
 */
import process from "node:process";
import client from "prom-client";

/** Registers the process metrics in `registry`. */
export function registerProcessMetrics(registry: client.Registry): void {
  const registers = [registry];
  new client.Counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    registers,
    collect() {
      const { user, system } = process.cpuUsage();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  new client.Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers,
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  // prom-client's names for V8's heap: what the caches hold, apart from the runtime's own RSS.
  new client.Gauge({
    name: "nodejs_heap_size_used_bytes",
    help: "Process heap size used from JavaScript in bytes.",
    registers,
    collect() {
      this.set(Deno.memoryUsage().heapUsed);
    },
  });
  new client.Gauge({
    name: "nodejs_heap_size_total_bytes",
    help: "Process heap size from JavaScript in bytes.",
    registers,
    collect() {
      this.set(Deno.memoryUsage().heapTotal);
    },
  });
  new client.Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds.",
    registers,
    collect() {
      this.set(performance.timeOrigin / 1000);
    },
  });
  if (openFileCount() === undefined) return;
  new client.Gauge({
    name: "process_open_fds",
    help: "Number of open file descriptors.",
    registers,
    collect() {
      const count = openFileCount();
      if (count !== undefined) this.set(count);
    },
  });
}

function openFileCount(): number | undefined {
  try {
    let count = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
    return count;
  } catch {
    return undefined; // Not Linux, or not allowed (see the module doc).
  }
}
