import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ContextValues } from "@connectrpc/connect";
import { createMethodSerializationLookup, encodeEnvelope, pipe, transformDecompressEnvelope, transformParseEnvelope, transformSplitEnvelope } from "@connectrpc/connect/protocol";
import { BuilderService, BuildHeaderSchema, BuildRequestSchema, type BuildRequest } from "../../../libs/gen/buildplane/v1/builder_pb.js";
import { chunkPrefix } from "./build-chunk-frame.js";
import { createContextReceiveInterceptor, keepContextChunks } from "./grpc-context-receive.js";

const header = (): BuildRequest => create(BuildRequestSchema, { message: { case: "header", value: create(BuildHeaderSchema, { buildId: "b-1", containerfile: "Containerfile" }) } });
const chunk = (bytes: Uint8Array): BuildRequest => create(BuildRequestSchema, { message: { case: "chunk", value: bytes } });
const envelope = (m: BuildRequest): Uint8Array => encodeEnvelope(0, toBinary(BuildRequestSchema, m));
const grpcHeader = (more: Record<string, string> = {}): Headers => new Headers({ "content-type": "application/grpc", ...more });
const readMaxBytes = 1 << 20;

async function* split(bytes: Uint8Array, every: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += every) yield bytes.subarray(at, at + every);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(b);
  return out;
}

/**
 * What a Build handler receives on a node: the body through the filter,
 * then connect's own envelope reader and parser, then the interceptor.
 */
async function receive(body: AsyncIterable<Uint8Array>, requestHeader = grpcHeader()): Promise<{ messages: BuildRequest[]; filtered: boolean }> {
  const contextValues: ContextValues = createContextValues();
  const filteredBody = keepContextChunks(body, { header: requestHeader, contextValues, readMaxBytes });
  const serialization = createMethodSerializationLookup(BuilderService.method.build, undefined, undefined, { readMaxBytes, writeMaxBytes: readMaxBytes });
  // connect's gRPC server reads a request body with these steps (no grpc-encoding: nothing to decompress with).
  const parsed = pipe(filteredBody, transformSplitEnvelope(readMaxBytes), transformDecompressEnvelope(null, readMaxBytes), transformParseEnvelope<BuildRequest>(serialization.getI(true)));
  let messages: BuildRequest[] = [];
  const handler = async (req: { message: AsyncIterable<BuildRequest> }): Promise<object> => {
    messages = await collect(req.message);
    return {};
  };
  const intercepted = createContextReceiveInterceptor()(handler as never) as (r: object) => Promise<unknown>;
  await intercepted({ stream: true, contextValues, message: parsed });
  return { messages, filtered: filteredBody !== body };
}

function context(messages: readonly BuildRequest[]): Buffer {
  return Buffer.concat(messages.flatMap((m) => (m.message.case === "chunk" ? [m.message.value] : [])));
}

test("a Build stream read off the connection gives the handler the header and every context byte, wherever the reads split it", async () => {
  const chunks = [randomBytes(1), randomBytes(4), randomBytes(5), randomBytes(127), randomBytes(128), randomBytes(70_000), new Uint8Array(0), randomBytes(16_384)];
  const wire = Buffer.concat([envelope(header()), ...chunks.map((c) => envelope(chunk(c)))]);
  for (const every of [1, 2, 5, 6, 7, 1000, 16_384, wire.byteLength]) {
    const { messages, filtered } = await receive(split(wire, every));
    assert.ok(filtered);
    assert.equal(messages[0]?.message.case === "header" && messages[0].message.value.buildId, "b-1", `reads of ${every} bytes`);
    assert.ok(messages.slice(1).every((m) => m.message.case === "chunk"));
    assert.deepEqual(context(messages), Buffer.concat(chunks), `reads of ${every} bytes`);
  }
});

test("context bytes reach the handler as views of the data read off the connection, not as copies", async () => {
  const bytes = randomBytes(64 * 1024);
  const wire = Buffer.concat([envelope(header()), chunkPrefix(bytes.byteLength), bytes]);
  const reads = [wire.subarray(0, 20_000), wire.subarray(20_000)];
  const { messages } = await receive((async function* () { yield* reads; })());
  const pieces = messages.flatMap((m) => (m.message.case === "chunk" ? [m.message.value] : []));
  assert.ok(pieces.length >= 2);
  assert.ok(pieces.every((p) => p.buffer === wire.buffer), "every piece is a view on the read buffers");
  assert.deepEqual(Buffer.concat(pieces), bytes);
});

test("a message that is more than a chunk, a header or an empty message passes through unchanged", async () => {
  // A chunk message with an unknown field after the chunk (field 15, varint 1).
  const extra = Buffer.concat([Buffer.from(toBinary(BuildRequestSchema, chunk(Buffer.from("abc")))), Buffer.from([(15 << 3) | 0, 1])]);
  const wire = Buffer.concat([envelope(header()), encodeEnvelope(0, extra), encodeEnvelope(0, new Uint8Array(0)), envelope(chunk(Buffer.from("xyz")))]);
  const passed = Buffer.concat(await collect(keepContextChunks(split(wire, 3), { header: grpcHeader(), contextValues: createContextValues(), readMaxBytes })));
  // The header, the extended chunk and the empty message are there byte for byte; the last chunk became a stub.
  assert.deepEqual(passed.subarray(0, wire.byteLength - envelope(chunk(Buffer.from("xyz"))).byteLength), wire.subarray(0, wire.byteLength - envelope(chunk(Buffer.from("xyz"))).byteLength));
  const { messages } = await receive(split(wire, 3));
  assert.deepEqual(messages.map((m) => m.message.case), ["header", "chunk", undefined, "chunk"]);
  assert.equal(Buffer.from(context(messages)).toString(), "abcxyz");
});

test("bodies of other protocols or compressed gRPC pass untouched", async () => {
  const body = split(envelope(chunk(Buffer.from("abc"))), 2);
  for (const h of [new Headers({ "content-type": "application/connect+proto" }), new Headers({ "content-type": "application/grpc-web+proto" }), grpcHeader({ "grpc-encoding": "gzip" })]) {
    const values = createContextValues();
    assert.equal(keepContextChunks(body, { header: h, contextValues: values, readMaxBytes }), body, h.get("content-type") ?? "");
  }
  assert.equal((await receive(split(envelope(chunk(Buffer.from("abc"))), 2), new Headers({ "content-type": "application/connect+proto" }))).filtered, false);
});

test("a message over the server's limit, or a compressed one, is refused by connect as before", async () => {
  const big = Buffer.concat([chunkPrefix(readMaxBytes + 1), randomBytes(readMaxBytes + 1)]);
  await assert.rejects(receive(split(Buffer.concat([envelope(header()), envelope(chunk(Buffer.from("ok"))), big]), 65_536)), (err: unknown) => {
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.ResourceExhausted);
    assert.match(err.rawMessage, /message size 1048581 is larger than configured readMaxBytes 1048576/);
    return true;
  });
  const compressed = Buffer.concat([envelope(header()), encodeEnvelope(1, Buffer.from("zz"))]);
  await assert.rejects(receive(split(compressed, 3)), (err: unknown) => {
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.Internal);
    assert.match(err.rawMessage, /received compressed envelope, but do not know how to decompress/);
    return true;
  });
});

test("a body cut inside a message is an incomplete envelope, wherever the cut falls", async () => {
  const wire = Buffer.concat([envelope(header()), envelope(chunk(randomBytes(1000)))]);
  const headerBytes = envelope(header()).byteLength;
  for (const cut of [headerBytes + 3, headerBytes + 6, headerBytes + 500, wire.byteLength - 1]) {
    await assert.rejects(receive(split(wire.subarray(0, cut), 100)), (err: unknown) => {
      assert.ok(err instanceof ConnectError, `cut at ${cut}`);
      assert.equal(err.code, Code.InvalidArgument);
      assert.equal(err.rawMessage, "protocol error: incomplete envelope");
      return true;
    });
  }
});
