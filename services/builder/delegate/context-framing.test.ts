import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createEnvelopeReadableStream, encodeEnvelope } from "@connectrpc/connect/protocol";
import { BuildHeaderSchema, BuildRequestSchema, type BuildRequest } from "../../../libs/gen/buildplane/v1/builder_pb.js";
import { chunkPrefix } from "../wire/build-chunk-frame.js";
import { frameBuildRequests } from "./context-framing.js";

const header = (): BuildRequest => create(BuildRequestSchema, { message: { case: "header", value: create(BuildHeaderSchema, { buildId: "b-1", containerfile: "Containerfile" }) } });
const chunk = (bytes: Uint8Array): BuildRequest => create(BuildRequestSchema, { message: { case: "chunk", value: bytes } });

async function* from<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const b of it) out.push(b);
  return out;
}

/** Decodes gRPC wire bytes, split at arbitrary points, with connect's own envelope reader. */
async function decode(parts: readonly Uint8Array[], splitEvery: number): Promise<BuildRequest[]> {
  const all = Buffer.concat(parts);
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let at = 0; at < all.length; at += splitEvery) c.enqueue(all.subarray(at, at + splitEvery));
      c.close();
    },
  });
  const reader = createEnvelopeReadableStream(stream).getReader();
  const out: BuildRequest[] = [];
  for (;;) {
    const r = await reader.read();
    if (r.done) return out;
    assert.equal(r.value.flags, 0);
    out.push(fromBinary(BuildRequestSchema, r.value.data));
  }
}

test("a chunk's framing is byte for byte what the protobuf encoder and the envelope would write", () => {
  for (const size of [1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 1024 * 1024 - 64]) {
    const bytes = randomBytes(size);
    const expected = encodeEnvelope(0, toBinary(BuildRequestSchema, chunk(bytes)));
    const framed = Buffer.concat([chunkPrefix(size), bytes]);
    assert.deepEqual(framed, Buffer.from(expected), `chunk of ${size} bytes`);
  }
});

test("a framed Build stream decodes to the same header and context, in messages of at most the limit, and no chunk is copied", async () => {
  const chunks = [randomBytes(1), randomBytes(300), randomBytes(2500), randomBytes(5), new Uint8Array(0), randomBytes(694)];
  const requests = [header(), ...chunks.map(chunk)];
  const wire = await collect(frameBuildRequests(from(requests), 1000));
  // Whole chunks are on the wire list as the very buffers they came in; a split one as views of its own bytes.
  for (const c of [chunks[0], chunks[1], chunks[3]]) assert.ok(wire.includes(c as Uint8Array), "a chunk is sent as the buffer it came in");
  const big = chunks[2] as Buffer;
  assert.ok(wire.filter((w) => w.buffer === big.buffer).length >= 3, "a split chunk is sent as views of its bytes");
  for (const splitEvery of [4093, 16_384, 1 << 20]) {
    const decoded = await decode(wire, splitEvery);
    assert.equal(decoded[0]?.message.case === "header" && decoded[0].message.value.containerfile, "Containerfile");
    const sizes = decoded.slice(1).map((d) => (d.message.case === "chunk" ? d.message.value.length : -1));
    assert.deepEqual(sizes, [1000, 1000, 1000, 500]);
    const context = Buffer.concat(decoded.slice(1).map((d) => d.message.value as Uint8Array));
    assert.deepEqual(context, Buffer.concat(chunks));
  }
});

test("a context of default-sized pieces goes as one message per piece", async () => {
  const pieces = [randomBytes(1024 * 1024 - 64), randomBytes(1024 * 1024 - 64), randomBytes(10)];
  const decoded = await decode(await collect(frameBuildRequests(from([header(), ...pieces.map(chunk)]))), 1 << 16);
  assert.deepEqual(decoded.slice(1).map((d) => (d.message.value as Uint8Array).length), [1024 * 1024 - 64, 1024 * 1024 - 64, 10]);
});

test("empty chunks are not sent", async () => {
  const wire = await collect(frameBuildRequests(from([header(), chunk(new Uint8Array(0)), chunk(Buffer.from("ab"))])));
  const decoded = await decode(wire, 3);
  assert.deepEqual(decoded.map((d) => d.message.case), ["header", "chunk"]);
});
