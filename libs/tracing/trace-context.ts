import { context, propagation, SpanKind, SpanStatusCode, trace, TraceFlags, type Context, type Span } from "@opentelemetry/api";

/**
 * The trace context of the current call, through the OpenTelemetry API
 * only: without `startTracing` no SDK is registered and every function here
 * is a cheap no-op (no span is recorded, no header written).
 */

const tracerName = "buildplane";

/**
 * The id of the trace active here, or undefined outside any span and in a
 * span the sampler dropped (no trace of that id will ever exist to look up).
 */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const ctx = span.spanContext();
  return trace.isSpanContextValid(ctx) && (ctx.traceFlags & TraceFlags.SAMPLED) !== 0 ? ctx.traceId : undefined;
}

/** Writes `traceparent` (and `tracestate`) of the active span into outgoing HTTP headers. */
export function injectTraceHeaders(headers: Record<string, string>): Record<string, string> {
  propagation.inject(context.active(), headers);
  return headers;
}

/** The context a request's `traceparent` header names (the active one when it has none). */
export function contextFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Context {
  return propagation.extract(context.active(), headers, {
    keys: (h) => Object.keys(h),
    get: (h, key) => h[key.toLowerCase()],
  });
}

/** Runs `fn` inside `parent` (a context from `contextFromHeaders`). */
export function runInContext<T>(parent: Context, fn: () => T): T {
  return context.with(parent, fn);
}

/**
 * Runs `fn` inside a new span named `name`, child of the active one; the
 * span ends with `fn`, marked as an error when it rejects.
 */
export async function withSpan<T>(name: string, attributes: Record<string, string | number | boolean>, fn: () => Promise<T>): Promise<T> {
  const span = trace.getTracer(tracerName).startSpan(name, { kind: SpanKind.INTERNAL, attributes });
  try {
    return await context.with(trace.setSpan(context.active(), span), fn);
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Marks `span` failed with `err`'s message (never its stack or cause). */
export function failSpan(span: Span, err: unknown, message?: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? (err instanceof Error ? err.message : String(err)) });
}

/** The tracer the RPC interceptors and build phases use. */
export function buildplaneTracer() {
  return trace.getTracer(tracerName);
}
