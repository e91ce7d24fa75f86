/**
 * Talking to the harness's etcd directly, for faults the API server cannot stage.
 *
 * @module
 */

/**
 * Compacts etcd's history up to its current revision (physically), through its v3 JSON gateway.
 * @throws {Error} with etcd's answer when a call fails.
 */
export async function compactEtcd(etcdUrl: string): Promise<void> {
  const call = async (api: string, body: unknown) => {
    const response = await fetch(`${etcdUrl}/v3/kv/${api}`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`etcd ${api}: ${await response.text()}`);
    return await response.json();
  };
  const { header } = await call("range", { key: btoa("compact-probe") });
  await call("compaction", { revision: header.revision, physical: true });
}
