/**
 * Kubernetes Events (events.k8s.io/v1) about the objects a controller manages, shown by
 * `kubectl describe` and `kubectl events`.
 *
 * Guarantees: a hot loop cannot flood the API. Repeats of one event (same object, type, reason
 * and note) within ten minutes update the first Event's `series` instead of creating new ones,
 * at most once a minute; and each object may cause at most 25 Events in a burst, then one per
 * five minutes (client-go's spam filter). Sending is best effort and off the caller's path, as
 * client-go's broadcaster: `record` returns at once, a few senders work through a bounded
 * backlog, and failures are logged only.
 *
 * @module
 */
import {
  collectionPath,
  CORE,
  type KubeClient,
  type KubeObject,
  objectPath,
} from "../client/mod.ts";
import type { Logger } from "../observability/mod.ts";
import { TokenBucket } from "../time/mod.ts";

const REPEAT_WINDOW_MS = 10 * 60_000;
const SERIES_UPDATE_MS = 60_000;
const SENDERS = 4;
const MAX_BACKLOG = 1_000;

/** Options for {@linkcode EventRecorder}. */
export interface EventRecorderOptions {
  client: KubeClient;
  /** `reportingController`, e.g. `database.example.com/postgres-operator`. */
  controller: string;
  /** `reportingInstance`, e.g. the pod name. */
  instance: string;
  logger: Logger;
}

interface Sent {
  name: string;
  namespace: string;
  count: number;
  firstAt: number;
  patchedAt: number;
}

/** Records Events; see the module documentation for its limits. */
export class EventRecorder {
  readonly #options: EventRecorderOptions;
  readonly #sent = new Map<string, Sent>();
  readonly #budgets = new Map<string, TokenBucket>();
  readonly #backlog: { reason: string; request: () => Promise<unknown> }[] = [];
  readonly #senders = new Set<Promise<void>>();

  constructor(options: EventRecorderOptions) {
    this.#options = options;
  }

  /** Records that `action` on `regarding` happened, for `reason`; returns at once. */
  record(
    regarding: KubeObject,
    type: "Normal" | "Warning",
    reason: string,
    action: string,
    note: string,
  ): void {
    const uid = regarding.metadata.uid ?? "";
    const key = [uid, type, reason, note].join("\u0000");
    const now = Date.now();
    this.#forgetOld(now);
    const namespace = regarding.metadata.namespace ?? "default";
    const client = this.#options.client;
    const repeat = this.#sent.get(key);
    if (repeat) {
      repeat.count++;
      if (now - repeat.patchedAt < SERIES_UPDATE_MS) return;
      repeat.patchedAt = now;
      const body = { series: { count: repeat.count, lastObservedTime: microTime(now) } };
      this.#send(
        reason,
        () =>
          client.request("PATCH", objectPath(CORE.events, repeat.namespace, repeat.name), {
            body,
            contentType: "application/merge-patch+json",
          }),
      );
      return;
    }
    if (!this.#budget(uid).allow()) return;
    const name = `${regarding.metadata.name}.${now.toString(16)}${randomSuffix()}`;
    this.#sent.set(key, { name, namespace, count: 1, firstAt: now, patchedAt: now });
    const body = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name, namespace },
      eventTime: microTime(now),
      reportingController: this.#options.controller,
      reportingInstance: this.#options.instance,
      action,
      reason,
      note: note.slice(0, 1024),
      type,
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: regarding.metadata.name,
        namespace: regarding.metadata.namespace,
        uid,
        resourceVersion: regarding.metadata.resourceVersion,
      },
    };
    this.#send(
      reason,
      () => client.request("POST", collectionPath(CORE.events, namespace), { body }),
    );
  }

  /** Resolves when every Event queued so far has been sent (or has failed). */
  async flush(): Promise<void> {
    while (this.#senders.size > 0) await Promise.all(this.#senders);
  }

  #send(reason: string, request: () => Promise<unknown>): void {
    if (this.#backlog.length >= MAX_BACKLOG) {
      this.#options.logger.debug("Event dropped: backlog full", { reason });
      return;
    }
    this.#backlog.push({ reason, request });
    if (this.#senders.size >= SENDERS) return;
    const sender = this.#drain();
    this.#senders.add(sender);
    sender.finally(() => this.#senders.delete(sender));
  }

  async #drain(): Promise<void> {
    for (let next = this.#backlog.shift(); next; next = this.#backlog.shift()) {
      const { reason } = next;
      await next.request().catch((error) =>
        this.#options.logger.debug("Event not recorded", { reason, error })
      );
    }
  }

  #budget(uid: string): TokenBucket {
    let bucket = this.#budgets.get(uid);
    if (!bucket) this.#budgets.set(uid, bucket = new TokenBucket({ rate: 1 / 300, burst: 25 }));
    return bucket;
  }

  #forgetOld(now: number): void {
    for (const [key, sent] of this.#sent) {
      if (now - sent.firstAt > REPEAT_WINDOW_MS) this.#sent.delete(key);
    }
    // Full buckets carry no state worth keeping.
    for (const [uid, bucket] of this.#budgets) {
      if (bucket.tokens() >= 25) this.#budgets.delete(uid);
    }
  }
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function randomSuffix(): string {
  return Math.floor(Math.random() * 0xfffff).toString(16);
}
