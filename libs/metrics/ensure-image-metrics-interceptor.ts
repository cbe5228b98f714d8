import type { Interceptor } from "@connectrpc/connect";
import type { BuildEvent } from "../gen/buildplane/v1/common_pb.js";
import { ResolverService } from "../gen/buildplane/v1/resolver_pb.js";
import { createCallEndInterceptor } from "../rpc/call-end.js";
import { codeName } from "../rpc/code-names.js";
import { toConnectError } from "../rpc/errors.js";
import { silentLogger } from "../rpc/rpc-logger.js";
import type { BuildplaneMetrics } from "./buildplane-metrics.js";

const ensureMethods = new Set(["EnsureImage", "EnsureImageFromContext"]);

/**
 * Counts `buildplane_ensure_image_requests_total{result,cached}` from the
 * events an EnsureImage call answers with: `ready` (cached true when the
 * image existed), `failed`, or `canceled` (the caller left or the build was
 * canceled).
 */
export function createEnsureImageMetricsInterceptor(metrics: BuildplaneMetrics): Interceptor {
  return (next) => async (req) => {
    if (req.service.typeName !== ResolverService.typeName || !ensureMethods.has(req.method.name)) return next(req);
    let last: BuildEvent["event"] | undefined;
    const counted = createCallEndInterceptor(() => (err) => {
      const code = err === undefined ? undefined : codeName(toConnectError(err, silentLogger, "").code);
      if (last?.case === "ready") metrics.ensureImageRequests.inc({ result: "ready", cached: String(last.value.cached) });
      else if (code === "canceled" || (last?.case === "failed" && last.value.code === "canceled")) metrics.ensureImageRequests.inc({ result: "canceled", cached: "false" });
      else metrics.ensureImageRequests.inc({ result: "failed", cached: "false" });
    })(async (r) => {
      const res = await next(r);
      if (!res.stream) return res;
      return { ...res, message: watch(res.message as AsyncIterable<{ event?: BuildEvent }>, (e) => (last = e)) as typeof res.message };
    });
    return counted(req);
  };
}

async function* watch(stream: AsyncIterable<{ event?: BuildEvent }>, seen: (e: BuildEvent["event"]) => void): AsyncIterable<{ event?: BuildEvent }> {
  for await (const res of stream) {
    if (res.event && (res.event.event.case === "ready" || res.event.event.case === "failed")) seen(res.event.event);
    yield res;
  }
}
