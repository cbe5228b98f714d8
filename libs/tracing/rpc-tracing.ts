import { context, propagation, SpanKind, trace, type Context, type Span } from "@opentelemetry/api";
import type { Interceptor } from "@connectrpc/connect";
import { silentLogger } from "../rpc/rpc-logger.js";
import { codeName } from "../rpc/code-names.js";
import { toConnectError } from "../rpc/errors.js";
import { buildplaneTracer, failSpan } from "./trace-context.js";

const headersCarrier = {
  get: (h: Headers, key: string) => h.get(key) ?? undefined,
  keys: (h: Headers) => [...h.keys()],
  set: (h: Headers, key: string, value: string) => h.set(key, value),
};

/**
 * A server span per RPC, child of the caller's W3C `traceparent` (a new
 * trace without one). The handler — including every step of a response
 * stream — runs with the span active, so its own calls and log lines carry
 * the trace.
 */
export function createServerTracingInterceptor(): Interceptor {
  return (next) => async (req) => {
    const parent = propagation.extract(context.active(), req.header, headersCarrier);
    const span = buildplaneTracer().startSpan(`${req.service.typeName}/${req.method.name}`, { kind: SpanKind.SERVER, attributes: rpcAttributes(req.service.typeName, req.method.name) }, parent);
    return traced(span, trace.setSpan(parent, span), () => next(req));
  };
}

/**
 * A client span per RPC, its `traceparent` sent in the request headers:
 * over the network and to services in the same process alike.
 */
export function createClientTracingInterceptor(): Interceptor {
  return (next) => async (req) => {
    const span = buildplaneTracer().startSpan(`${req.service.typeName}/${req.method.name}`, { kind: SpanKind.CLIENT, attributes: rpcAttributes(req.service.typeName, req.method.name) });
    const ctx = trace.setSpan(context.active(), span);
    propagation.inject(ctx, req.header, headersCarrier);
    return traced(span, ctx, () => next(req));
  };
}

/** Sends the active trace's `traceparent` without a span of its own (calls to builder nodes made inside a build span). */
export function createTraceHeaderInterceptor(): Interceptor {
  return (next) => async (req) => {
    propagation.inject(context.active(), req.header, headersCarrier);
    return next(req);
  };
}

function rpcAttributes(service: string, method: string): Record<string, string> {
  return { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method };
}

async function traced<R extends { stream: boolean; message: unknown }>(span: Span, ctx: Context, call: () => Promise<R>): Promise<R> {
  let res: R;
  try {
    res = await context.with(ctx, call);
  } catch (err) {
    end(span, err);
    throw err;
  }
  if (!res.stream) {
    end(span, undefined);
    return res;
  }
  return { ...res, message: tracedStream(res.message as AsyncIterable<unknown>, span, ctx) };
}

async function* tracedStream<T>(stream: AsyncIterable<T>, span: Span, ctx: Context): AsyncIterable<T> {
  const it = stream[Symbol.asyncIterator]();
  let failure: unknown;
  let done = false;
  try {
    for (;;) {
      const step = await context.with(ctx, () => it.next());
      if (step.done) break;
      yield step.value;
    }
    done = true;
  } catch (err) {
    failure = err;
    done = true;
    throw err;
  } finally {
    // The consumer stopped early (cancel): let the inner stream clean up too.
    if (!done) await context.with(ctx, async () => it.return?.()).catch(() => undefined);
    end(span, failure);
  }
}

function end(span: Span, err: unknown): void {
  const code = err === undefined ? "ok" : codeName(toConnectError(err, silentLogger, "").code);
  span.setAttribute("rpc.grpc.status_code_name", code);
  if (err !== undefined) failSpan(span, err, code);
  span.end();
}
