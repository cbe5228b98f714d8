import type { Interceptor } from "@connectrpc/connect";
import { createCallEndInterceptor } from "../rpc/call-end.js";
import { codeName } from "../rpc/code-names.js";
import { toConnectError } from "../rpc/errors.js";
import { silentLogger } from "../rpc/rpc-logger.js";
import type { BuildplaneMetrics } from "./buildplane-metrics.js";

const grpcTypes: Readonly<Record<string, string>> = {
  unary: "unary",
  server_streaming: "server_stream",
  client_streaming: "client_stream",
  bidi_streaming: "bidi_stream",
};

/**
 * `grpc_server_started_total`, `grpc_server_handled_total` and
 * `grpc_server_handling_seconds` by service, method and type, with the gRPC
 * status name (`OK`, `NOT_FOUND`…) the call ended with.
 */
export function createRpcMetricsInterceptor(metrics: BuildplaneMetrics): Interceptor {
  return createCallEndInterceptor((req) => {
    const labels = { grpc_service: req.service.typeName, grpc_method: req.method.name, grpc_type: grpcTypes[req.method.methodKind] ?? "unary" };
    metrics.grpcStarted.inc(labels);
    const stop = metrics.grpcHandling.startTimer(labels);
    return (err) => {
      stop();
      const code = err === undefined ? "OK" : codeName(toConnectError(err, silentLogger, "").code).toUpperCase();
      metrics.grpcHandled.inc({ ...labels, grpc_code: code });
    };
  });
}
