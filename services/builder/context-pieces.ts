import type { Readable } from "node:stream";
import { streamChunks } from "../../libs/stream/stream-chunks.js";
import { UploadTooLargeError } from "./build-errors.js";

/** 1 MiB less a margin, so a piece with its message framing fits a node's `[http] max_message_bytes` of 1 MiB. */
export const defaultPieceBytes = 1024 * 1024 - 64;

/**
 * The bytes of `source` joined into pieces of `pieceBytes` (the last one
 * shorter): one message each on the wire, so a context of hundreds of MiB is
 * a few hundred messages, not thousands of the source's 64 KiB reads. A
 * source chunk larger than what a piece still takes is split. Fails with
 * `UploadTooLargeError` before yielding a byte past `maxBytes`.
 */
export async function* contextPieces(source: Readable, options: { readonly maxBytes: number; readonly pieceBytes: number }): AsyncGenerator<Buffer, void, undefined> {
  const { maxBytes, pieceBytes } = options;
  let total = 0;
  let parts: Buffer[] = [];
  let size = 0;
  for await (let chunk of streamChunks(source, pieceBytes)) {
    if (total + chunk.length > maxBytes) throw new UploadTooLargeError(maxBytes);
    total += chunk.length;
    while (size + chunk.length >= pieceBytes) {
      const room = pieceBytes - size;
      parts.push(chunk.subarray(0, room));
      chunk = chunk.subarray(room);
      yield join(parts, pieceBytes);
      parts = [];
      size = 0;
    }
    if (chunk.length > 0) {
      parts.push(chunk);
      size += chunk.length;
    }
  }
  if (size > 0) yield join(parts, size);
}

/**
 * The bytes of `source` as they come, for a pass that frames them itself
 * (a node's gRPC stream joins them into messages without copying): a chunk
 * larger than `pieceBytes` is split, smaller ones are not joined, so no byte
 * is copied (the source is read chunk by chunk: its own iterator would join
 * what it holds into a copy). Fails with `UploadTooLargeError` before
 * yielding a byte past `maxBytes`.
 */
export async function* contextChunks(source: Readable, options: { readonly maxBytes: number; readonly pieceBytes: number }): AsyncGenerator<Buffer, void, undefined> {
  const { maxBytes, pieceBytes } = options;
  let total = 0;
  for await (let chunk of streamChunks(source, pieceBytes)) {
    if (total + chunk.length > maxBytes) throw new UploadTooLargeError(maxBytes);
    total += chunk.length;
    while (chunk.length > pieceBytes) {
      yield chunk.subarray(0, pieceBytes);
      chunk = chunk.subarray(pieceBytes);
    }
    if (chunk.length > 0) yield chunk;
  }
}

function join(parts: readonly Buffer[], size: number): Buffer {
  return parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts, size);
}
