import { DomainError } from "../errors/domain-error.js";

/** How traces are exported, from the standard `OTEL_*` variables. */
export interface OtelTracingSettings {
  /** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`; default `http/protobuf`. */
  readonly protocol: "http/protobuf" | "http/json";
  /** `OTEL_SERVICE_NAME`, else the caller's default (`buildplane`, `buildplane-cli`). */
  readonly serviceName: string | undefined;
}

/** An `OTEL_*` variable with a value buildplane cannot honour. */
export class OtelSettingError extends DomainError {
  constructor(readonly variable: string, readonly value: string, expected: string) {
    super("invalidArgument", `${variable} "${value}" is not supported: expected ${expected}`);
  }
}

/**
 * Whether traces are on, and how they leave: on when an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is
 * set or `OTEL_TRACES_EXPORTER=otlp`; off (undefined) when none is, when
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. The exporter
 * itself reads the endpoint, headers, certificates and timeout, and the SDK
 * the sampler (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`), as the
 * OpenTelemetry specification says.
 */
export function otelTracingSettings(env: Readonly<Record<string, string | undefined>>): OtelTracingSettings | undefined {
  const get = (name: string): string => (env[name] ?? "").trim();
  if (get("OTEL_SDK_DISABLED").toLowerCase() === "true") return undefined;
  const exporter = get("OTEL_TRACES_EXPORTER").toLowerCase();
  if (exporter === "none") return undefined;
  if (exporter !== "" && exporter !== "otlp") throw new OtelSettingError("OTEL_TRACES_EXPORTER", exporter, "otlp or none");
  const endpoint = get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") || get("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (endpoint === "" && exporter === "") return undefined;
  const protocolVar = get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = get(protocolVar) || "http/protobuf";
  if (protocol !== "http/protobuf" && protocol !== "http/json") throw new OtelSettingError(protocolVar, protocol, "http/protobuf or http/json");
  const serviceName = get("OTEL_SERVICE_NAME");
  return { protocol, serviceName: serviceName === "" ? undefined : serviceName };
}
