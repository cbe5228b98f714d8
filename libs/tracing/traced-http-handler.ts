import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import type { DualHandler } from "../rpc/listeners.js";
import { buildplaneTracer, failSpan } from "./trace-context.js";

/**
 * A server span for a plain HTTP route (OpenRun's delegate endpoint), child
 * of the request's W3C `traceparent`; it ends when the response is sent or
 * the connection closes. A no-op without a registered SDK.
 */
export function tracedHttpHandler(name: string, handler: DualHandler): DualHandler {
  return (req, res) => {
    const parent = propagation.extract(context.active(), req.headers, {
      keys: (h) => Object.keys(h),
      get: (h, key) => h[key.toLowerCase()] as string | string[] | undefined,
    });
    const span = buildplaneTracer().startSpan(name, { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method ?? "" } }, parent);
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      span.setAttribute("http.response.status_code", res.statusCode);
      if (res.statusCode >= 500 || !res.writableFinished) failSpan(span, undefined, res.writableFinished ? `status ${res.statusCode}` : "response not sent");
      span.end();
    };
    res.once("finish", end);
    res.once("close", end);
    context.with(trace.setSpan(parent, span), () => handler(req, res));
  };
}
