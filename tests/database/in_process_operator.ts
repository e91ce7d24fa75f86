/**
 * Runs the Database controller inside the test process, with a client whose every request is
 * counted, so tests can prove how many writes a reconcile sends.
 */
import { setupDatabaseController } from "../../src/database/reconcile/controller.ts";
import type { Database } from "../../src/database/api/types.ts";
import { type Controller, Manager } from "../../src/runtime/controller/mod.ts";
import { KubeClient, type KubeObject } from "../../src/runtime/client/mod.ts";
import { Logger, RuntimeMetrics } from "../../src/runtime/observability/mod.ts";
import type { ControlPlane } from "../../tools/testenv/mod.ts";

/** A running in-process operator. */
export interface InProcessOperator extends AsyncDisposable {
  manager: Manager;
  controller: Controller<Database>;
  metrics: RuntimeMetrics;
  /** Requests sent so far, by HTTP method. */
  requests: Map<string, number>;
  /** Requests other than GET (writes) sent so far. */
  writes(): number;
  /**
   * Writes of owned objects sent so far (`METHOD path`): Secrets, Services, StatefulSets and
   * PVCs, leaving out Database status and Events, which a pod rolling out rightly changes. A
   * create, which cannot change an existing object, reads `POST path (create <name>)`.
   */
  objectWrites: string[];
  /**
   * Every request sent so far as `METHOD path`, an Event's POST as `POST events <regarding name>`,
   * so a test can count what one Database cost.
   */
  log: string[];
  /** Reconciles finished so far. */
  reconciles(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the manager with the Database controller and waits for its caches. */
export async function startInProcess(plane: ControlPlane): Promise<InProcessOperator> {
  const requests = new Map<string, number>();
  const metrics = new RuntimeMetrics();
  const objectWrites: string[] = [];
  const log: string[] = [];
  const client = new RecordingClient(
    plane.connection,
    {
      qps: 0,
      observer: (method) => requests.set(method, (requests.get(method) ?? 0) + 1),
    },
    objectWrites,
    log,
  );
  const logger = new Logger({ format: "json", level: "warn", write: () => {} });
  const manager = new Manager({ client, logger, metrics, gracefulShutdownMs: 5_000 });
  // Degraded Databases are looked at again within a second, so healing shows quickly.
  const controller = setupDatabaseController(manager, { instance: "test", degradedRetryMs: 1_000 });
  const stopper = new AbortController();
  const running = manager.start(stopper.signal);
  await Promise.all(manager.informers.map((i) => i.synced));
  const stop = async () => {
    stopper.abort();
    await running;
    client.close();
  };
  return {
    manager,
    controller,
    metrics,
    requests,
    objectWrites,
    log,
    writes: () => [...requests].reduce((n, [m, c]) => (m === "GET" ? n : n + c), 0),
    reconciles: async () =>
      (await metrics.reconcileTotal.get()).values.reduce((n, v) => n + v.value, 0),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A client that also notes every request, and every write of an owned object. */
class RecordingClient extends KubeClient {
  readonly #writes: string[];
  readonly #log: string[];

  constructor(
    connection: ConstructorParameters<typeof KubeClient>[0],
    options: ConstructorParameters<typeof KubeClient>[1],
    writes: string[],
    log: string[],
  ) {
    super(connection, options);
    this.#writes = writes;
    this.#log = log;
  }

  override request<T>(
    method: string,
    path: string,
    init?: Parameters<KubeClient["request"]>[2],
  ): Promise<T> {
    if (
      method !== "GET" &&
      /\/(secrets|services|statefulsets|persistentvolumeclaims)(\/|$)/.test(path)
    ) {
      const name = (init?.body as KubeObject | undefined)?.metadata?.name;
      this.#writes.push(method === "POST" ? `POST ${path} (create ${name})` : `${method} ${path}`);
    }
    const regarding = (init?.body as { regarding?: { name?: string } } | undefined)?.regarding;
    this.#log.push(
      method === "POST" && path.endsWith("/events")
        ? `POST events ${regarding?.name}`
        : `${method} ${path}`,
    );
    return super.request<T>(method, path, init);
  }
}
