/**
 * How a `BuildRequest` that is only a context chunk looks on the gRPC wire,
 * for the two sides that handle it without protobuf's encoder or decoder:
 * the main install framing chunks it sends (`delegate/context-framing.ts`)
 * and a node receiving them (`grpc-context-receive.ts`).
 */

/** `BuildRequest.chunk` is field 2, length-delimited: its tag byte. */
export const chunkTag = (2 << 3) | 2;

/** The gRPC envelope header and protobuf field header that precede a chunk's bytes on the wire. */
export function chunkPrefix(chunkBytes: number): Uint8Array {
  const varint: number[] = [];
  for (let n = chunkBytes; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      varint.push(n);
      break;
    }
    varint.push((n % 128) | 128);
  }
  const payload = 1 + varint.length + chunkBytes;
  const prefix = new Uint8Array(5 + 1 + varint.length);
  new DataView(prefix.buffer).setUint32(1, payload); // flags byte 0: not compressed
  prefix[5] = chunkTag;
  prefix.set(varint, 6);
  return prefix;
}

/**
 * The size of field `chunk` when a message of `length` bytes, whose first
 * bytes are `peek`, is that one field and nothing else; otherwise undefined.
 */
export function chunkSize(peek: Uint8Array, length: number): number | undefined {
  if (peek[0] !== chunkTag) return undefined;
  let size = 0;
  for (let i = 1; i < peek.byteLength && i <= 5; i++) {
    const b = peek[i] as number;
    size += (b & 0x7f) * 2 ** (7 * (i - 1));
    if (b < 0x80) return 1 + i + size === length ? size : undefined;
  }
  return undefined;
}
