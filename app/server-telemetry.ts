import type { ResolvedConfig } from "../libs/config/config-types.js";
import { otelTracingSettings } from "../libs/config/otel-env.js";
import { createLogger, type RpcLogger } from "../libs/rpc/logger.js";
import { createLogScrubber, secretValuesIn } from "../libs/secret/scrub.js";

/** The logger and trace pipeline of one process. */
export interface ServerTelemetry {
  readonly log: RpcLogger;
  /** Tracing is on (`OTEL_*` set): servers and clients add span interceptors. */
  readonly tracing: boolean;
  /** Exports the spans still buffered. */
  close(): Promise<void>;
}

/**
 * Opens the process's JSON logger at `[log] level`, scrubbing every secret
 * of the configuration from each line and adding `trace_id` while a span is
 * active, and starts tracing when the standard `OTEL_*` variables ask for it
 * (the SDK is imported only then).
 */
export async function openServerTelemetry(
  config: ResolvedConfig,
  env: Readonly<Record<string, string | undefined>>,
  defaultServiceName: string,
): Promise<ServerTelemetry> {
  const settings = otelTracingSettings(env);
  const scrubber = createLogScrubber(secretValuesIn(config));
  if (settings === undefined) {
    return { log: createLogger({ level: config.log.level, scrubber }), tracing: false, close: async () => undefined };
  }
  const [{ startTracing }, { activeTraceId }] = await Promise.all([import("../libs/tracing/start-tracing.js"), import("../libs/tracing/trace-context.js")]);
  const tracing = await startTracing(settings, defaultServiceName);
  return { log: createLogger({ level: config.log.level, scrubber, traceId: activeTraceId }), tracing: true, close: () => tracing.shutdown() };
}
