import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { BuildRequestSchema } from "../../../libs/gen/buildplane/v1/builder_pb.js";

/**
 * How a `BuildRequest` that is only a context chunk looks on the gRPC wire,
 * for the two sides that handle it without protobuf's message encoder or
 * decoder: the main install framing chunks it sends
 * (`delegate/context-framing.ts`) and a node receiving them
 * (`grpc-context-receive.ts`).
 */

const chunkField = BuildRequestSchema.field.chunk.number;

/** The first byte of the field `BuildRequest.chunk` (number and wire type). */
export const chunkTag = (chunkField << 3) | WireType.LengthDelimited;

/** The gRPC envelope header and protobuf field header that precede a chunk's bytes on the wire. */
export function chunkPrefix(chunkBytes: number): Uint8Array {
  const field = new BinaryWriter().tag(chunkField, WireType.LengthDelimited).uint32(chunkBytes).finish();
  const prefix = new Uint8Array(5 + field.byteLength);
  new DataView(prefix.buffer).setUint32(1, field.byteLength + chunkBytes); // flags byte 0: not compressed
  prefix.set(field, 5);
  return prefix;
}

/**
 * The size of field `chunk` when a message of `length` bytes, whose first
 * bytes are `peek`, is that one field and nothing else; otherwise undefined.
 */
export function chunkSize(peek: Uint8Array, length: number): number | undefined {
  if (peek[0] !== chunkTag) return undefined;
  const reader = new BinaryReader(peek);
  try {
    reader.tag();
    const size = reader.uint32();
    return reader.pos + size === length ? size : undefined;
  } catch {
    // The peek ends inside the length, or it is no varint.
    return undefined;
  }
}
