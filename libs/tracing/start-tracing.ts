import type { OtelTracingSettings } from "../config/otel-env.js";

/** The process's trace pipeline, once started. */
export interface Tracing {
  /** Exports the spans still buffered and stops; call before the process exits. */
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry SDK for this process: a Node tracer provider
 * (AsyncLocalStorage context, W3C trace context and baggage propagation,
 * the sampler of `OTEL_TRACES_SAMPLER`) exporting in batches over OTLP/HTTP
 * as protobuf or JSON. The SDK and exporters are imported here only, so a
 * process without `OTEL_*` settings never loads them.
 */
export async function startTracing(settings: OtelTracingSettings, defaultServiceName: string): Promise<Tracing> {
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { resourceFromAttributes }, { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION }, exporterModule] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/semantic-conventions"),
    settings.protocol === "http/json" ? import("@opentelemetry/exporter-trace-otlp-http") : import("@opentelemetry/exporter-trace-otlp-proto"),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName ?? defaultServiceName, [ATTR_SERVICE_VERSION]: version }),
    spanProcessors: [new BatchSpanProcessor(new exporterModule.OTLPTraceExporter(), { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  return {
    async shutdown() {
      await provider.shutdown().catch(() => undefined);
    },
  };
}

const version = "0.1.0";
