import { create } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";

/**
 * The server streams that can stay quiet for long — a build's events
 * through a silent step, a followed log — and whose empty message every
 * client skips as a keep-alive (no event; no lines and no final status).
 */
export const keepAliveStreams: ReadonlySet<string> = new Set([
  "buildplane.v1.ResolverService/EnsureImage",
  "buildplane.v1.ResolverService/EnsureImageFromContext",
  "buildplane.v1.BuilderService/Build",
  "buildplane.v1.MetadataService/StreamLogs",
]);

/**
 * Sends an empty message on a stream of `streams` that has sent nothing for
 * `intervalMs` (`[http] stream_keepalive_secs`), so an idle timeout on the
 * way — a service mesh's sidecar, a load balancer — never cuts a build
 * whose step prints nothing for minutes. HTTP/2 PINGs do not count as
 * stream activity for those proxies; a message does. 0 turns it off.
 */
export function createStreamKeepAliveInterceptor(intervalMs: number, streams: ReadonlySet<string> = keepAliveStreams): Interceptor {
  return (next) => async (req) => {
    const res = await next(req);
    if (!res.stream || intervalMs <= 0 || !streams.has(`${req.service.typeName}/${req.method.name}`)) return res;
    const output = req.method.output;
    return { ...res, message: withKeepAlive(res.message, () => create(output), intervalMs) };
  };
}

/** `source`'s items, with `keepAlive()` in between whenever `intervalMs` pass without one. */
export async function* withKeepAlive<T>(source: AsyncIterable<T>, keepAlive: () => T, intervalMs: number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<T>> | undefined;
  let ended = false;
  try {
    for (;;) {
      pending ??= it.next();
      let timer: NodeJS.Timeout | undefined;
      const quiet = new Promise<"quiet">((resolve) => (timer = setTimeout(() => resolve("quiet"), intervalMs)));
      const first = await Promise.race([pending, quiet]).finally(() => clearTimeout(timer));
      if (first === "quiet") {
        yield keepAlive();
        continue;
      }
      pending = undefined;
      if (first.done) {
        ended = true;
        return;
      }
      yield first.value;
    }
  } finally {
    // The caller went away (or the source threw): let the source clean up.
    // Not awaited while a next() is in flight: the handler ends on its signal.
    if (!ended) {
      const closing = it.return?.();
      if (pending === undefined) await closing?.catch(() => undefined);
      else void closing?.catch(() => undefined);
    }
  }
}
