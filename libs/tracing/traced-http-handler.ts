import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import type { DualHandler } from "../rpc/listeners.js";
import { buildplaneTracer, failSpan } from "./trace-context.js";

/**
 * A server span for a plain HTTP route (OpenRun's delegate endpoint), child
 * of the request's W3C `traceparent`; it ends when the response is sent or
 * the connection closes; listeners on the request and response streams run
 * inside the span. A no-op without a registered SDK.
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
    const ctx = trace.setSpan(parent, span);
    // The handler reads the body in stream events, which would run in the
    // context the connection was made in: bind the streams to the span, so a
    // build started from a body event belongs to the caller's trace.
    context.bind(ctx, req);
    context.bind(ctx, res);
    context.with(ctx, () => handler(req, res));
  };
}
