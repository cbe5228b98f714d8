import { PassThrough, type Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { Attach, type KubeConfig } from "@kubernetes/client-node";
import { DomainError } from "../../../libs/errors/domain-error.js";

/** Bytes allowed in flight on the WebSocket before reading more of the context. */
const maxBuffered = 1024 * 1024;

/**
 * Streams the build context into the pod's stdin through the attach API
 * (WebSocket, Kubernetes channel protocol): gzipped on the way, because
 * Kaniko reads `tar://stdin` as a tar.gz. The socket's buffered amount
 * paces the reading, so the context is never held whole in memory. Closing
 * stdin ends it for the `stdinOnce` container. Bounded by `timeoutMs`.
 */
export async function uploadContext(kc: KubeConfig, namespace: string, pod: string, container: string,
  context: Readable, timeoutMs: number, signal: AbortSignal): Promise<number> {
  const stdin = new PassThrough();
  const ws = await new Attach(kc).attach(namespace, pod, container, null, null, stdin, false);
  const timer = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([signal, timer]);
  let sent = 0;
  try {
    const gz = context.pipe(createGzip());
    context.once("error", (e) => gz.destroy(e));
    for await (const chunk of gz) {
      both.throwIfAborted();
      stdin.write(chunk as Buffer);
      sent += (chunk as Buffer).length;
      while (ws.bufferedAmount > maxBuffered) {
        if (ws.readyState !== ws.OPEN) throw new DomainError("unavailable", `uploading the context to pod "${pod}" failed: the attach connection closed`);
        await delay(10, both);
      }
    }
    stdin.end();
    while (ws.bufferedAmount > 0 && ws.readyState === ws.OPEN) await delay(10, both);
    if (ws.readyState === ws.OPEN) ws.close();
    return sent;
  } catch (e) {
    ws.terminate();
    if (timer.aborted && !signal.aborted) {
      throw new DomainError("deadlineExceeded", `uploading the context to pod "${pod}" took longer than ${Math.round(timeoutMs / 1000)}s`);
    }
    throw e;
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return; }
    const t = setTimeout(() => { signal.removeEventListener("abort", onAbort); resolve(); }, ms);
    const onAbort = () => { clearTimeout(t); reject(signal.reason); };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
