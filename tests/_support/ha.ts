/**
 * What the HA tests on real nodes share: a Database's status read with kubectl, waiting for it
 * to settle, switchovers measured by a writer, where its instances run, and the rows a writer
 * saw acknowledged that the database lacks.
 *
 * @module
 */
import type { Database } from "../../src/database/api/types.ts";
import { type ControlPlane, eventually } from "../../tools/testenv/mod.ts";
import { mustKubectl, psql } from "./real_node.ts";
import { longestGap, type Writer } from "./writer.ts";

type Pod = { metadata: { name: string }; spec: { nodeName?: string } };

/** One Database with standbys under test, in `default`. */
export class HaDatabase {
  /** The Database as last read. */
  last: Database | undefined;
  readonly #kubectl: (args: string[]) => Promise<string>;

  constructor(readonly plane: ControlPlane, readonly name: string, readonly secret: string) {
    this.#kubectl = mustKubectl(plane);
  }

  /** Reads the Database. */
  async read(): Promise<Database> {
    return this.last = JSON.parse(
      await this.#kubectl(["get", "database", this.name, "-o", "json"]),
    ) as Database;
  }

  /** The primary as last read. */
  get primary(): string {
    return this.last?.status?.currentPrimary ?? "";
  }

  /** Waits for Ready with every standby streaming, no change under way, and `primary` true. */
  async settled(streaming: number, primary?: (name: string) => boolean): Promise<void> {
    await eventually(
      async () => {
        const s = (await this.read()).status;
        return s?.ready === true && s.streamingReplicas === streaming && !s.targetPrimary &&
          (primary?.(s.currentPrimary ?? "") ?? true);
      },
      `${this.name} Ready with ${streaming} streaming standbys`,
      { timeoutMs: 300_000, intervalMs: 500, describe: () => this.last?.status },
    );
  }

  /**
   * Creates the writers' table `acked (id int, writer text)` through `<name>`, retried: the
   * Service's endpoint may reach the nodes' proxies a moment after the status says Ready.
   */
  async createTable(): Promise<void> {
    let error = "";
    await eventually(
      () =>
        psql(this.plane, "CREATE TABLE IF NOT EXISTS acked (id int, writer text)", {
          secret: this.secret,
        }).then(() => true, (e) => (error = String(e), false)),
      "table acked created through the read-write Service",
      { timeoutMs: 60_000, intervalMs: 1_000, describe: () => error },
    );
  }

  /** Each instance's node. */
  async nodes(): Promise<Map<string, string>> {
    const pods = (await this.plane.client.request<{ items: Pod[] }>(
      "GET",
      "/api/v1/namespaces/default/pods",
      { query: { labelSelector: `database=${this.name}` } },
    )).items;
    return new Map(pods.map((p) => [p.metadata.name, p.spec.nodeName ?? ""]));
  }

  /** Asks for a switchover to `to` by annotation and waits for it. */
  async switchover(to: string, streaming: number): Promise<void> {
    await this.#kubectl([
      "annotate",
      "--overwrite",
      "database",
      this.name,
      `database.example.com/target-primary=${to}`,
    ]);
    await this.settled(streaming, (p) => p === to);
  }

  /** The instance's `postgres` container log. */
  async log(pod: string): Promise<string> {
    return (await this.plane.kubectl(["logs", pod, "-c", "postgres"])).stdout;
  }

  /**
   * Runs `change`, waits for `done`, then for `writer` to commit again, and prints the longest
   * gap between acknowledged writes meanwhile, which it returns.
   */
  async measureGap(
    what: string,
    writer: Writer,
    change: () => Promise<unknown>,
    done: () => Promise<unknown>,
  ): Promise<number> {
    const from = Date.now();
    await change();
    await done();
    const after = Date.now();
    await eventually(
      async () => (await writer.writes()).some((w) => w.ok && w.at > after),
      `writes go on after ${what}`,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const gap = longestGap(await writer.writes(), from, Date.now());
    console.log(`${what}: longest gap between acknowledged writes ${gap} ms`);
    return gap;
  }

  /** The writers' acknowledged rows (`writer:id`) that table `acked` lacks, read on `node`. */
  async missingRows(writers: Writer[], node: string): Promise<string[]> {
    // The writes first: a row acknowledged after the SELECT is not missing.
    const seen = await Promise.all(writers.map(async (w) => ({ w, writes: await w.writes() })));
    const stored = new Set(
      (await psql(this.plane, "SELECT writer || ':' || id FROM acked", {
        secret: this.secret,
        node,
      })).split("\n"),
    );
    const missing: string[] = [];
    for (const { w: writer, writes } of seen) {
      for (const w of writes) {
        if (w.ok && !stored.has(`${writer.name}:${w.id}`)) missing.push(`${writer.name}:${w.id}`);
      }
    }
    return missing;
  }
}
