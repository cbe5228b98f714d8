import { isPlaintextNodeUrl } from "../../../libs/config/plaintext-nodes.js";
import type { BuilderNode, NodeLoad } from "./builder-node.js";
import { rendezvousOrder } from "./rendezvous.js";

/** One node as the pool sees it, for `GetStatus` of the main install. */
export interface NodeState extends NodeLoad {
  readonly url: string;
  /** Builds this install has running there right now. */
  readonly inFlight: number;
  /** When the last probe answered (ms since epoch; 0 before the first). */
  readonly checkedAt: number;
  /** Reached over plain HTTP across the network (see `isPlaintextNodeUrl`). */
  readonly plaintext: boolean;
}

/** The health-checked pool of builder nodes. */
export interface NodePool {
  /**
   * Healthy nodes in the order to try them for `key`: the rendezvous
   * favourite first unless it is at capacity, then the least loaded, then
   * the others. Probes all nodes first when no probe has completed yet.
   */
  candidates(key: string, exclude: ReadonlySet<string>, signal: AbortSignal): Promise<BuilderNode[]>;
  /** Marks a node down until its next good probe. */
  markDown(url: string, reason: string): void;
  /** Counts a build running on `url`; call the returned function when it ends. */
  track(url: string): () => void;
  snapshot(): NodeState[];
  close(): Promise<void>;
}

interface Entry {
  readonly node: BuilderNode;
  load: NodeLoad;
  inFlight: number;
  checkedAt: number;
}

/**
 * Creates the pool and starts polling every node's health and load
 * (`grpc.health.v1` and `GetStatus`) every `pollIntervalMs`.
 */
export function createNodePool(nodes: readonly BuilderNode[], options: { readonly pollIntervalMs: number }): NodePool {
  const entries: Entry[] = nodes.map((node) => ({ node, load: { healthy: false, capacity: 0, running: 0, queued: 0, reason: "not probed yet" }, inFlight: 0, checkedAt: 0 }));
  const stop = new AbortController();
  let round: Promise<void> | undefined;

  const probeAll = (): Promise<void> =>
    (round ??= Promise.all(
      entries.map(async (e) => {
        e.load = await e.node.probe(stop.signal);
        e.checkedAt = Date.now();
      }),
    ).then(
      () => void (round = undefined),
      () => void (round = undefined),
    ));
  const timer = setInterval(() => void probeAll(), options.pollIntervalMs);
  timer.unref();
  void probeAll();

  const busy = (e: Entry): number => Math.max(e.load.running + e.load.queued, e.inFlight);
  const order = (key: string, exclude: ReadonlySet<string>): BuilderNode[] => {
    const healthy = entries.filter((e) => e.load.healthy && !exclude.has(e.node.url));
    const ranked = rendezvousOrder(key, healthy, (e) => e.node.url);
    const first = ranked[0];
    if (first && busy(first) >= Math.max(1, first.load.capacity)) {
      const least = [...ranked].sort((a, b) => busy(a) / Math.max(1, a.load.capacity) - busy(b) / Math.max(1, b.load.capacity))[0];
      if (least && busy(least) < busy(first)) ranked.splice(ranked.indexOf(least), 1), ranked.unshift(least);
    }
    return ranked.map((e) => e.node);
  };

  return {
    async candidates(key, exclude, signal) {
      // Every node already tried: a probe cannot add one, and would only delay the answer.
      if (entries.every((e) => exclude.has(e.node.url))) return [];
      if (entries.every((e) => e.checkedAt === 0) || order(key, exclude).length === 0) {
        await abortable(probeAll(), signal);
      }
      return order(key, exclude);
    },
    markDown(url, reason) {
      const e = entries.find((x) => x.node.url === url);
      if (e) e.load = { healthy: false, capacity: e.load.capacity, running: 0, queued: 0, reason };
    },
    track(url) {
      const e = entries.find((x) => x.node.url === url);
      if (!e) return () => undefined;
      e.inFlight++;
      let done = false;
      return () => {
        if (!done) (done = true), e.inFlight--;
      };
    },
    snapshot() {
      return entries.map((e) => ({ url: e.node.url, ...e.load, inFlight: e.inFlight, checkedAt: e.checkedAt, plaintext: isPlaintextNodeUrl(e.node.url) }));
    },
    async close() {
      clearInterval(timer);
      stop.abort();
      await Promise.all(entries.map((e) => e.node.close()));
    },
  };
}

function abortable(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
