import type { Interceptor } from "@connectrpc/connect";
import { createBuildplaneMetrics, type BuildplaneMetrics } from "../libs/metrics/buildplane-metrics.js";
import { createEnsureImageMetricsInterceptor } from "../libs/metrics/ensure-image-metrics-interceptor.js";
import { createRpcMetricsInterceptor } from "../libs/metrics/rpc-metrics-interceptor.js";
import { createAccessLogInterceptor } from "../libs/rpc/access-log-interceptor.js";
import type { RpcLogger } from "../libs/rpc/logger.js";
import { createClientTracingInterceptor, createServerTracingInterceptor } from "../libs/tracing/rpc-tracing.js";

/** What one process observes itself with: its metrics and the interceptors that feed metrics, traces and access lines. */
export interface Observability {
  readonly metrics: BuildplaneMetrics;
  /** Calls arriving on the port: server span, `grpc_server_*`, EnsureImage outcomes, access line. */
  readonly serverInterceptors: readonly Interceptor[];
  /** Calls served in this process for another service of it: server span, EnsureImage outcomes, access line at debug. */
  readonly inProcessInterceptors: readonly Interceptor[];
  /** Every call this process makes: client span and `traceparent`. */
  readonly clientInterceptors: readonly Interceptor[];
}

/**
 * Wires metrics, traces and access logs for one server or embedded run.
 * Span interceptors are added only when tracing was started (`OTEL_*`), so
 * without it a call costs no span bookkeeping at all.
 */
export function createObservability(options: { readonly log: RpcLogger; readonly tracing: boolean; readonly metrics?: BuildplaneMetrics | undefined }): Observability {
  const metrics = options.metrics ?? createBuildplaneMetrics();
  const ensure = createEnsureImageMetricsInterceptor(metrics);
  const server = options.tracing ? [createServerTracingInterceptor()] : [];
  return {
    metrics,
    serverInterceptors: [...server, createRpcMetricsInterceptor(metrics), ensure, createAccessLogInterceptor(options.log, "network")],
    inProcessInterceptors: [...server, ensure, createAccessLogInterceptor(options.log, "in-process")],
    clientInterceptors: options.tracing ? [createClientTracingInterceptor()] : [],
  };
}
