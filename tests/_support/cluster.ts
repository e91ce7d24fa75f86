/** Cluster steps that runtime and database tests share. */
import type { KubeClient, KubeObject } from "../../src/runtime/client/mod.ts";

/** Creates a namespace with a unique name that starts with `prefix`. */
export async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const created = await client.request<KubeObject>("POST", "/api/v1/namespaces", {
    body: { metadata: { generateName: `${prefix}-` } },
  });
  return created.metadata.name!;
}

/** Runs `fn` over `items` with at most `width` calls in flight. */
export async function parallel<T>(
  items: T[],
  width: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}
