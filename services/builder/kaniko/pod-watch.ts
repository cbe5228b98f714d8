import { Watch, type KubeConfig, type V1Pod } from "@kubernetes/client-node";

/** What a pod watch decides on each event: a result ends the watch, undefined keeps watching. */
export type PodDecider<T> = (type: "ADDED" | "MODIFIED" | "DELETED", pod: V1Pod) => T | undefined;

/**
 * Watches the pods matching `labelSelector` until `decide` returns a
 * result, reconnecting when the server closes the watch (a new watch starts
 * with the current state). Rejects with `signal`'s reason when aborted.
 */
export async function watchPods<T>(kc: KubeConfig, namespace: string, labelSelector: string, decide: PodDecider<T>, signal: AbortSignal): Promise<T> {
  const watch = new Watch(kc);
  return await new Promise<T>((resolve, reject) => {
    let settled = false;
    let current: AbortController | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      current?.abort();
      fn();
    };
    const onAbort = () => finish(() => reject(signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    const start = (): void => {
      if (settled) return;
      watch.watch(`/api/v1/namespaces/${namespace}/pods`, { labelSelector }, (type, obj) => {
        let r: T | undefined;
        try { r = decide(type as "ADDED", obj as V1Pod); } catch (e) { finish(() => reject(e)); return; }
        if (r !== undefined) finish(() => resolve(r as T));
      }, (err: unknown) => {
        if (settled) return;
        if (err !== null && err !== undefined && (err as { name?: string }).name !== "AbortError") {
          setTimeout(start, 200); // transient: the API server went away; reconnect
          return;
        }
        start();
      }).then((ac) => { current = ac; if (settled) ac.abort(); }, () => { if (!settled) setTimeout(start, 200); });
    };
    if (signal.aborted) onAbort(); else start();
  });
}
