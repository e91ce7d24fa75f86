/** Shared steps of the informer tests against the real API server. */
import type { KubeClient } from "../../../src/runtime/client/kube_client.ts";
import {
  collectionPath,
  CORE,
  type KubeObject,
  type ResourceType,
} from "../../../src/runtime/client/resource.ts";
import type { ReadonlyStore } from "../../../src/runtime/cache/store.ts";
import { parallel } from "../../_support/cluster.ts";

const configMaps = CORE.configMaps;

/** name → resourceVersion of a fresh list from the server. */
export async function freshState(
  client: KubeClient,
  type: ResourceType,
  ns: string,
): Promise<Map<string, string>> {
  const list = await client.request<{ items: KubeObject[] }>("GET", collectionPath(type, ns));
  return new Map(list.items.map((o) => [o.metadata.name!, o.metadata.resourceVersion!]));
}

/** name → resourceVersion of what a store holds. */
export function storeState(store: ReadonlyStore<KubeObject>): Map<string, string> {
  return new Map(store.list().map((o) => [o.metadata.name!, o.metadata.resourceVersion!]));
}

/** Writes `rounds` updates to each of `count` ConfigMaps, retrying through outages. */
export async function writeConfigMaps(
  client: KubeClient,
  ns: string,
  count: number,
  rounds: number,
): Promise<void> {
  const path = collectionPath(configMaps, ns);
  await parallel(Array.from({ length: count }, (_, i) => `cm-${i}`), 8, async (name) => {
    for (let round = 0; round < rounds; round++) {
      const body = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name },
        data: { round: `${round}` },
      };
      while (true) {
        try {
          await client.request("PATCH", `${path}/${name}`, {
            body,
            contentType: "application/apply-patch+yaml",
            query: { fieldManager: "test", force: true },
          });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  });
}

export function sameState(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}
