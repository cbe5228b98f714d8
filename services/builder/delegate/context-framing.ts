import { toBinary, type MessageShape } from "@bufbuild/protobuf";
import { createContextValues, type Interceptor, type Transport } from "@connectrpc/connect";
import { createNodeHttpClient, createGrpcTransport, type Http2SessionManager } from "@connectrpc/connect-node";
import {
  createMethodSerializationLookup,
  createMethodUrl,
  encodeEnvelope,
  pipe,
  runStreamingCall,
  transformParseEnvelope,
  transformSplitEnvelope,
} from "@connectrpc/connect/protocol";
import { requestHeader, validateResponse, validateTrailer } from "@connectrpc/connect/protocol-grpc";
import { BuilderService, BuildRequestSchema, type BuildRequest } from "../../../libs/gen/buildplane/v1/builder_pb.js";
import { defaultPieceBytes } from "../context-pieces.js";
import { chunkPrefix } from "../wire/build-chunk-frame.js";

/**
 * The Build request stream as gRPC wire bytes. Context chunks are joined
 * into messages of up to `maxChunkBytes` (a larger chunk is split) without
 * being copied: a message is sent as its few bytes of framing followed by
 * the chunks themselves, where a protobuf encode, an envelope and a join
 * would each copy every byte. The header goes through the regular encoder.
 */
export async function* frameBuildRequests(requests: AsyncIterable<BuildRequest>, maxChunkBytes: number = defaultPieceBytes): AsyncGenerator<Uint8Array, void, undefined> {
  let parts: Uint8Array[] = [];
  let size = 0;
  function* message(): Generator<Uint8Array> {
    if (size === 0) return;
    yield chunkPrefix(size);
    yield* parts;
    parts = [];
    size = 0;
  }
  for await (const req of requests) {
    if (req.message.case !== "chunk") {
      yield* message();
      yield encodeEnvelope(0, toBinary(BuildRequestSchema, req));
      continue;
    }
    let bytes = req.message.value;
    while (size + bytes.byteLength >= maxChunkBytes) {
      const room = maxChunkBytes - size;
      parts.push(bytes.subarray(0, room));
      size = maxChunkBytes;
      yield* message();
      bytes = bytes.subarray(room);
    }
    if (bytes.byteLength > 0) {
      parts.push(bytes);
      size += bytes.byteLength;
    }
  }
  yield* message();
}

export interface NodeTransportOptions {
  readonly baseUrl: string;
  readonly sessionManager: Http2SessionManager;
  readonly interceptors: Interceptor[];
}

/**
 * connect's gRPC transport towards a builder node, except that the request
 * stream of `Build` is framed by `frameBuildRequests`: a context of
 * hundreds of MiB crosses to the node without a copy of any byte on the
 * main install, whose JS thread the transfer keeps busy. Responses,
 * trailers, errors, interceptors and cancellation are connect's own.
 */
export function createNodeTransport(options: NodeTransportOptions): Transport {
  const grpc = createGrpcTransport({ baseUrl: options.baseUrl, sessionManager: options.sessionManager, interceptors: options.interceptors });
  const httpClient = createNodeHttpClient({ httpVersion: "2", sessionProvider: () => options.sessionManager });
  const limits = { readMaxBytes: 0xffffffff, writeMaxBytes: 0xffffffff };
  return {
    unary: (...args) => grpc.unary(...args),
    stream(method, signal, timeoutMs, header, input, contextValues) {
      if (method.parent.typeName !== BuilderService.typeName || method.name !== BuilderService.method.build.name) return grpc.stream(method, signal, timeoutMs, header, input, contextValues);
      const serialization = createMethodSerializationLookup(method, undefined, undefined, limits);
      return runStreamingCall({
        interceptors: options.interceptors,
        signal,
        timeoutMs,
        req: {
          stream: true,
          service: method.parent,
          method,
          requestMethod: "POST",
          url: createMethodUrl(options.baseUrl, method),
          header: requestHeader(true, timeoutMs, header),
          contextValues: contextValues ?? createContextValues(),
          message: input,
        },
        next: async (req) => {
          const res = await httpClient({
            url: req.url,
            method: "POST",
            header: req.header,
            signal: req.signal,
            body: frameBuildRequests(req.message as AsyncIterable<BuildRequest>),
          });
          const { foundStatus, headerError } = validateResponse(res.status, res.header);
          if (headerError) throw headerError;
          async function* checkTrailer<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
            yield* messages;
            if (!foundStatus) validateTrailer(res.trailer, res.header);
          }
          return {
            ...req,
            header: res.header,
            trailer: res.trailer,
            message: pipe(res.body, transformSplitEnvelope(limits.readMaxBytes), transformParseEnvelope<MessageShape<typeof method.output>>(serialization.getO(true)), checkTrailer, { propagateDownStreamError: true }),
          };
        },
      });
    },
  };
}
