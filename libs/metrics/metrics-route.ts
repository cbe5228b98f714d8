import type { DualHandler } from "../rpc/listeners.js";
import type { BuildplaneMetrics } from "./buildplane-metrics.js";

/** The path Prometheus scrapes; in the `read` scope of `libs/rpc/rpc-scopes.ts`. */
export const metricsPath = "/metrics";

/**
 * Serves `GET /metrics` (Prometheus text exposition format) on the RPC
 * port, before the RPC adapter; every other request goes on to `next`.
 * The edge guard has already checked the caller's scope.
 */
export function withMetricsRoute(metrics: BuildplaneMetrics): (next: DualHandler) => DualHandler {
  return (next) => (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== metricsPath || (req.method !== "GET" && req.method !== "HEAD")) return next(req, res);
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" });
        if (req.method === "HEAD") res.end();
        else res.end(text);
      },
      () => {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end("metrics could not be collected\n");
      },
    );
  };
}
