import { createContextKey, type Interceptor } from "@connectrpc/connect";
import { headerEncoding, parseContentType } from "@connectrpc/connect/protocol-grpc";
import { BuilderService, type BuildRequest } from "../../../libs/gen/buildplane/v1/builder_pb.js";
import type { MountedService, RequestBodyFilter } from "../../../libs/rpc/service-mount.js";
import { chunkPrefix, chunkSize, chunkTag } from "./build-chunk-frame.js";

/**
 * The receive side of a gRPC `Build` stream, on a builder node.
 *
 * connect decodes every message into a fresh buffer of its size: for the
 * hundreds of MiB of a context, a copy of every byte and, worse, a major
 * garbage collection every few tens of MiB (V8 starts one each time fresh
 * buffers outgrow its external-memory budget), which cost a node about as
 * much CPU as the HTTP/2 receive itself. Here the context's bytes go past
 * connect's decoder: the request body is read before connect sees it, and
 * each message that is only a context chunk is handed on as an empty chunk
 * message, its bytes kept aside as the slices of the received HTTP/2 data
 * they arrived in (no copy). The interceptor puts them back, as chunk
 * messages of those slices, before any other interceptor or the handler
 * sees the stream. Everything else (the header, the protocol's checks,
 * errors, limits, trailers) is connect's own.
 */

/** An uncompressed envelope holding a `BuildRequest` whose chunk is empty. */
const stubEnvelope = chunkPrefix(0);

/** The context's bytes of one Build call, kept aside by message index. */
type KeptChunks = Map<number, Uint8Array[]>;

const keptChunksKey = createContextKey<KeptChunks | undefined>(undefined);

/** The request path of `Build`, whose body `keepContextChunks` filters. */
export const contextReceivePath = `/${BuilderService.typeName}/Build`;

/**
 * The filter and its interceptor, as a mounted service carries them: the
 * interceptor must come before any other network interceptor of the service
 * that reads the Build stream (the node guard counts the context).
 */
export function contextReceiveMount(): Required<Pick<MountedService, "requestBodyFilters" | "networkInterceptors">> {
  return { requestBodyFilters: { [contextReceivePath]: keepContextChunks }, networkInterceptors: [createContextReceiveInterceptor()] };
}

/**
 * The body filter of `Build` calls over gRPC: messages that are only a
 * context chunk reach connect as empty chunk messages, their bytes kept for
 * `createContextReceiveInterceptor`. A message larger than the server's
 * limit, a compressed one or a body that ends inside a message is passed
 * on as it came from there on, so that connect refuses it as it would any
 * other. Bodies of other protocols (Connect, gRPC-web) pass untouched.
 */
export const keepContextChunks: RequestBodyFilter = (body, request) => {
  const encoding = request.header.get(headerEncoding);
  if (parseContentType(request.header.get("content-type"))?.binary !== true || (encoding !== null && encoding !== "identity")) return body;
  const kept: KeptChunks = new Map();
  request.contextValues.set(keptChunksKey, kept);
  return splitChunks(body, kept, request.readMaxBytes);
};

/** Where the reader stands in the body. */
type ReadState =
  | { at: "header"; bytes: Uint8Array; have: number }
  | { at: "peek"; header: Uint8Array; length: number; bytes: Uint8Array; have: number }
  | { at: "chunk"; remaining: number; pieces: Uint8Array[]; read: Uint8Array[] }
  | { at: "message"; remaining: number };

async function* splitChunks(body: AsyncIterable<Uint8Array>, kept: KeptChunks, maxMessageBytes: number): AsyncGenerator<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  let state: ReadState = { at: "header", bytes: new Uint8Array(5), have: 0 };
  let index = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    const data = next.value;
    let offset = 0;
    while (offset < data.byteLength) {
      switch (state.at) {
        case "header": {
          const n = Math.min(5 - state.have, data.byteLength - offset);
          state.bytes.set(data.subarray(offset, offset + n), state.have);
          state.have += n;
          offset += n;
          if (state.have < 5) break;
          const flags = state.bytes[0];
          const length = new DataView(state.bytes.buffer).getUint32(1);
          if (flags !== 0 || length > maxMessageBytes) {
            // connect refuses what comes next; hand it everything as it came.
            yield state.bytes;
            yield data.subarray(offset);
            for (let rest = await iterator.next(); !rest.done; rest = await iterator.next()) yield rest.value;
            return;
          }
          if (length < 2) {
            yield state.bytes;
            state = { at: "message", remaining: length };
          } else {
            state = { at: "peek", header: state.bytes, length, bytes: new Uint8Array(6), have: 0 };
          }
          break;
        }
        case "peek": {
          // The field's tag and length, a byte at a time: no byte of the chunk itself is copied.
          while (offset < data.byteLength && !peeked(state)) state.bytes[state.have++] = data[offset++] as number;
          if (!peeked(state)) break;
          const size = chunkSize(state.bytes.subarray(0, state.have), state.length);
          if (size === undefined) {
            yield state.header;
            yield state.bytes.subarray(0, state.have);
            state = { at: "message", remaining: state.length - state.have };
          } else {
            state = { at: "chunk", remaining: size, pieces: [], read: [state.header, state.bytes.subarray(0, state.have)] };
          }
          break;
        }
        case "chunk": {
          const n = Math.min(state.remaining, data.byteLength - offset);
          state.pieces.push(data.subarray(offset, offset + n));
          state.remaining -= n;
          offset += n;
          break;
        }
        case "message": {
          const n = Math.min(state.remaining, data.byteLength - offset);
          yield data.subarray(offset, offset + n);
          state.remaining -= n;
          offset += n;
          break;
        }
      }
      if (state.at === "chunk" && state.remaining === 0) {
        kept.set(index, state.pieces);
        yield stubEnvelope;
      }
      if ((state.at === "chunk" || state.at === "message") && state.remaining === 0) {
        index++;
        state = { at: "header", bytes: new Uint8Array(5), have: 0 };
      }
    }
  }
  // The body ended inside a message: connect reports the incomplete envelope.
  if (state.at === "header" && state.have > 0) yield state.bytes.subarray(0, state.have);
  if (state.at === "peek") yield* [state.header, state.bytes.subarray(0, state.have)];
  if (state.at === "chunk") yield* [...state.read, ...state.pieces];
}

/** Whether the peek holds a whole tag and length (or all the message has, or more than a chunk's field header could be). */
function peeked(state: { bytes: Uint8Array; have: number; length: number }): boolean {
  if (state.have === 0) return false;
  if (state.have >= state.length || state.have === state.bytes.byteLength || state.bytes[0] !== chunkTag) return true;
  return state.have >= 2 && (state.bytes[state.have - 1] as number) < 0x80;
}

/**
 * Puts the context bytes `keepContextChunks` kept aside back into the Build
 * stream, one chunk message per slice, before any other interceptor or the
 * handler reads it. Calls whose body was not filtered pass as they are.
 */
export function createContextReceiveInterceptor(): Interceptor {
  return (next) => async (req) => {
    const kept = req.contextValues.get(keptChunksKey);
    if (!req.stream || kept === undefined) return next(req);
    return next({ ...req, message: restoreChunks(req.message as AsyncIterable<BuildRequest>, kept) } as typeof req);
  };
}

async function* restoreChunks(messages: AsyncIterable<BuildRequest>, kept: KeptChunks): AsyncGenerator<BuildRequest> {
  let index = 0;
  for await (const m of messages) {
    const pieces = kept.get(index);
    kept.delete(index);
    index++;
    if (pieces === undefined) {
      yield m;
      continue;
    }
    for (const piece of pieces) yield { ...m, message: { case: "chunk", value: piece } };
  }
}
