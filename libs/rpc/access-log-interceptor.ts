import type { Interceptor } from "@connectrpc/connect";
import { createCallEndInterceptor } from "./call-end.js";
import { callerKey } from "./caller-identity.js";
import { codeName } from "./code-names.js";
import { toConnectError } from "./errors.js";
import { silentLogger, type RpcLogger } from "./rpc-logger.js";

/**
 * One access line per RPC as it ends: `service`, `method`, `code` (gRPC
 * status name), `duration_ms` and `caller` (the credential's name, never
 * its value). Network calls are logged at `info`, calls between services of
 * one process at `debug`.
 */
export function createAccessLogInterceptor(log: RpcLogger, where: "network" | "in-process"): Interceptor {
  const write = where === "network" ? log.info.bind(log) : log.debug?.bind(log);
  // A logger without debug lines writes no in-process access line: the call is not wrapped at all.
  if (!write) return (next) => next;
  return createCallEndInterceptor((req) => {
    const started = performance.now();
    return (err) => {
      const code = err === undefined ? "ok" : codeName(toConnectError(err, silentLogger, "").code);
      write("rpc", {
        service: req.service.typeName,
        method: req.method.name,
        code,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        caller: where === "network" ? req.contextValues.get(callerKey) : "in-process",
      });
    };
  });
}
