import { otelTracingSettings } from "../libs/config/otel-env.js";

/** Tracing of one CLI run, on only when `OTEL_*` asks for it. */
export interface CliTracing {
  readonly on: boolean;
  /** Exports the spans still buffered; call before the CLI exits. */
  close(): Promise<void>;
}

/**
 * Starts tracing for `buildplane build` when the standard `OTEL_*`
 * variables ask for it (service name `buildplane-cli` by default), so the
 * EnsureImage call's client span starts the trace and its `traceparent`
 * reaches the server. Without them nothing is imported.
 */
export async function startCliTracing(env: Readonly<Record<string, string | undefined>>): Promise<CliTracing> {
  const settings = otelTracingSettings(env);
  if (settings === undefined) return { on: false, close: async () => undefined };
  const { startTracing } = await import("../libs/tracing/start-tracing.js");
  const tracing = await startTracing(settings, "buildplane-cli");
  return { on: true, close: () => tracing.shutdown() };
}
