/**
 * Informer health as metrics, read from the informers at scrape time: whether each cache has
 * synced, how many objects it holds, and when its list-watch last delivered anything. A watch
 * that silently stopped shows up as a growing `time() - informer_last_event_timestamp_seconds`
 * (bookmarks arrive about once a minute even when nothing changes). User code that throws inside
 * an informer (transform, index function, subscriber or predicate) is counted, not fatal.
 *
 * @module
 */
import client from "prom-client";
import type { HandlerStage, Informer } from "./informer.ts";
import type { KubeObject, ResourceType } from "../client/mod.ts";

/** Registers the informer gauges in `registry`; `informers` is called on every scrape. */
export function registerInformerMetrics(
  registry: client.Registry,
  informers: () => Informer<KubeObject>[],
): void {
  const registers = [registry];
  const labelNames = ["resource"] as const;
  new client.Gauge({
    name: "informer_synced",
    help: "1 once the informer's cache holds its first full list, else 0.",
    labelNames,
    registers,
    collect() {
      for (const i of informers()) {
        this.set({ resource: resourceName(i.type) }, i.hasSynced ? 1 : 0);
      }
    },
  });
  new client.Gauge({
    name: "informer_cached_objects",
    help: "Objects in the informer's cache.",
    labelNames,
    registers,
    collect() {
      for (const i of informers()) this.set({ resource: resourceName(i.type) }, i.store.size);
    },
  });
  new client.Counter({
    name: "informer_handler_errors_total",
    help: "Exceptions thrown by user code inside the informer, by stage: transform, index " +
      "(an index function) or subscriber (event handlers and controller predicates). The " +
      "informer logs each one and goes on.",
    labelNames: ["resource", "stage"] as const,
    registers,
    collect() {
      // Counted by the informers themselves; copied at scrape time like the gauges.
      this.reset();
      for (const i of informers()) {
        for (const [stage, count] of Object.entries(i.handlerErrors)) {
          this.inc({ resource: resourceName(i.type), stage: stage as HandlerStage }, count);
        }
      }
    },
  });
  new client.Gauge({
    name: "informer_last_event_timestamp_seconds",
    help: "When the informer last received a list or watch event (bookmarks included), " +
      "in seconds since the epoch; absent until the first one.",
    labelNames,
    registers,
    collect() {
      for (const i of informers()) {
        if (i.lastEventAt > 0) this.set({ resource: resourceName(i.type) }, i.lastEventAt / 1000);
      }
    },
  });
}

/** `plural.group` as kubectl spells it (`statefulsets.apps`), or `plural` for the core group. */
function resourceName(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}
