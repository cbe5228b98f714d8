import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { DualHandler } from "./listeners.js";
import type { RpcLogger } from "./logger.js";
import type { RequestBodyFilter } from "./service-mount.js";
import { streamChunks } from "../stream/stream-chunks.js";

export interface NodeAdapterOptions {
  readonly routes: (router: ConnectRouter) => void;
  readonly interceptors: Interceptor[];
  readonly shutdownSignal: AbortSignal;
  readonly readMaxBytes: number;
  readonly contextValues: (req: object) => ContextValues;
  /** Request body filters by request path (`MountedService.requestBodyFilters`). */
  readonly requestBodyFilters: ReadonlyMap<string, RequestBodyFilter>;
  readonly log: RpcLogger;
}

/**
 * connect-node's `connectNodeAdapter`, built from the same exported parts,
 * plus request body filters: a path with a filter has its body, as it came
 * off the connection, passed through the filter before the protocol reads it.
 */
export function createNodeAdapter(options: NodeAdapterOptions): DualHandler {
  const router = createConnectRouter({
    interceptors: options.interceptors,
    shutdownSignal: options.shutdownSignal,
    readMaxBytes: options.readMaxBytes,
    acceptCompression: [compressionGzip, compressionBrotli],
  });
  options.routes(router);
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req, res) => {
    const path = req.url?.split("?", 2)[0] ?? "";
    const handler = handlers.get(path);
    if (handler === undefined) {
      res.writeHead(404);
      res.end();
      return;
    }
    const contextValues = options.contextValues(req);
    let uReq: ReturnType<typeof universalRequestFromNodeRequest>;
    try {
      uReq = universalRequestFromNodeRequest(req, res, undefined, contextValues);
    } catch (err) {
      // An HTTP/1.0 request without a Host header: connect cannot tell its authority.
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" });
      res.end(`${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    const filter = options.requestBodyFilters.get(path);
    // A filtered body (a build context) is read chunk by chunk, as it came off the connection, not joined.
    const filtered = filter !== undefined ? { ...uReq, body: filter(streamChunks(req), { header: uReq.header, contextValues, readMaxBytes: options.readMaxBytes }) } : uReq;
    handler(filtered)
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason: unknown) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        options.log.error("rpc handler failed", { rpc: `${handler.service.typeName}/${handler.method.name}`, error: reason instanceof Error ? reason.message : String(reason) });
      });
  };
}
