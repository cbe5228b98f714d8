import assert from "node:assert/strict";
import { test } from "node:test";
import { OtelSettingError, otelTracingSettings } from "./otel-env.js";

test("tracing is off when no OTEL_* variable asks for it, or when one turns it off", () => {
  const off: Array<Record<string, string>> = [
    {},
    { OTEL_SERVICE_NAME: "bp" },
    { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
    { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" },
    { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_TRACES_EXPORTER: "none" },
    { OTEL_EXPORTER_OTLP_ENDPOINT: "  " },
  ];
  for (const env of off) assert.equal(otelTracingSettings(env), undefined, JSON.stringify(env));
});

test("an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp turns tracing on, protobuf by default", () => {
  const table: Array<[Record<string, string>, { protocol: string; serviceName: string | undefined }]> = [
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, { protocol: "http/protobuf", serviceName: undefined }],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" }, { protocol: "http/protobuf", serviceName: undefined }],
    [{ OTEL_TRACES_EXPORTER: "otlp" }, { protocol: "http/protobuf", serviceName: undefined }],
    [{ OTEL_TRACES_EXPORTER: "OTLP", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_SERVICE_NAME: "bp-resolver" }, { protocol: "http/json", serviceName: "bp-resolver" }],
    // The traces-specific protocol wins over the general one.
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json" }, { protocol: "http/json", serviceName: undefined }],
  ];
  for (const [env, want] of table) assert.deepEqual(otelTracingSettings(env), want, JSON.stringify(env));
});

test("a protocol or exporter buildplane cannot honour is refused with invalid_argument, naming the variable and the allowed values", () => {
  const table: Array<[Record<string, string>, string]> = [
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, 'OTEL_EXPORTER_OTLP_PROTOCOL "grpc" is not supported: expected http/protobuf or http/json'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL "grpc" is not supported: expected http/protobuf or http/json'],
    [{ OTEL_TRACES_EXPORTER: "zipkin" }, 'OTEL_TRACES_EXPORTER "zipkin" is not supported: expected otlp or none'],
  ];
  for (const [env, message] of table) {
    assert.throws(
      () => otelTracingSettings(env),
      (err: unknown) => err instanceof OtelSettingError && err.code === "invalidArgument" && err.message === message,
      JSON.stringify(env),
    );
  }
});
