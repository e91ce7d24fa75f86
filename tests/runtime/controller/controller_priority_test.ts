import assert from "node:assert/strict";
import type { Informer, InformerEvent } from "../../../src/runtime/cache/mod.ts";
import { CORE, type KubeObject, type ResourceType } from "../../../src/runtime/client/mod.ts";
import { Controller } from "../../../src/runtime/controller/mod.ts";
import { Logger } from "../../../src/runtime/observability/mod.ts";

/** The two things a Controller uses of an informer: its type and its events. */
function fakeInformer(type: ResourceType) {
  const handlers: ((event: InformerEvent<KubeObject>) => void)[] = [];
  return {
    informer: {
      type,
      subscribe: (handler: (event: InformerEvent<KubeObject>) => void) => {
        handlers.push(handler);
        return () => {};
      },
    } as unknown as Informer<KubeObject>,
    emit: (event: InformerEvent<KubeObject>) => handlers.forEach((h) => h(event)),
  };
}

const quiet = new Logger({ format: "json", level: "error", write: () => {} });
const obj = (name: string, owner?: string): KubeObject => ({
  metadata: {
    name,
    namespace: "ns",
    ...(owner
      ? {
        ownerReferences: [{
          apiVersion: "v1",
          kind: "ConfigMap",
          name: owner,
          uid: owner,
          controller: true,
        }],
      }
      : {}),
  },
});

Deno.test("Controller queues each event's key at the priority its priority hook adds", async () => {
  const primary = fakeInformer(CORE.configMaps);
  const owned = fakeInformer(CORE.secrets);
  const seen: [string, string][] = [];
  const controller = new Controller<KubeObject>({
    name: "priorities",
    for: primary.informer,
    owns: [owned.informer],
    reconcile: () => Promise.resolve(),
    logger: quiet,
    priority: (key, _event, source) => {
      seen.push([key, source.kind]);
      if (source.kind === "Secret") return 10;
      return key === "ns/important" ? 1 : 0;
    },
  });
  primary.emit({ type: "added", object: obj("first"), initial: false });
  primary.emit({ type: "added", object: obj("important"), initial: false });
  primary.emit({ type: "added", object: obj("listed"), initial: true });
  primary.emit({ type: "added", object: obj("owner"), initial: false });
  owned.emit({ type: "updated", object: obj("child", "owner"), initial: false });
  const order = [];
  for (let i = 0; i < 4; i++) {
    const item = await controller.queue.get();
    order.push([item!.key, item!.priority]);
    controller.queue.done(item!.key);
  }
  controller.queue.shutDown();
  assert.deepEqual(order, [
    ["ns/owner", 10], // Raised by its owned object's event while waiting.
    ["ns/important", 1],
    ["ns/first", 0],
    ["ns/listed", -100], // The initial list's low priority, plus the hook's 0.
  ]);
  assert.deepEqual(seen.at(-1), ["ns/owner", "Secret"]);
});
