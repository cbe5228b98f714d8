import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { BuilderService, BuildHeaderSchema, BuildRequestSchema, BuildResponseSchema, type BuildRequest } from "../../../libs/gen/buildplane/v1/builder_pb.js";
import { BuildEventSchema } from "../../../libs/gen/buildplane/v1/common_pb.js";
import { silentLogger } from "../../../libs/rpc/logger.js";
import { createRpcServer } from "../../../libs/rpc/rpc-server.js";
import { mountService } from "../../../libs/rpc/service-mount.js";
import { createNodeTransport } from "../delegate/context-framing.js";
import { contextReceiveMount } from "./grpc-context-receive.js";

// A real RPC server on a port with the builder's receive path mounted as
// app/factories/builder.ts mounts it; its Build answers the sha256 of the
// context it read, as the digest of a Ready event.
async function startServer(maxMessageBytes = 1 << 20) {
  const seen: { chunks: number }[] = [];
  const service = {
    ...mountService(BuilderService, {
      async *build(requests) {
        const hash = createHash("sha256");
        let chunks = 0;
        let buildId = "";
        for await (const r of requests) {
          if (r.message.case === "header") buildId = r.message.value.buildId;
          if (r.message.case === "chunk") {
            hash.update(r.message.value);
            chunks++;
          }
        }
        seen.push({ chunks });
        yield create(BuildResponseSchema, { event: create(BuildEventSchema, { buildId, event: { case: "ready", value: { $typeName: "buildplane.v1.Ready", image: "i", digest: hash.digest("hex"), cached: false } } }) });
      },
      cancelBuild: async () => ({ canceled: false }),
      hasImage: () => Promise.reject(new ConnectError("not served here", Code.Unimplemented)),
      getStatus: () => Promise.reject(new ConnectError("not served here", Code.Unimplemented)),
    }),
    ...contextReceiveMount(),
  };
  const server = createRpcServer({ host: "127.0.0.1", port: 0, services: [service], log: silentLogger, maxMessageBytes });
  const { port } = await server.listen();
  return { server, baseUrl: `http://127.0.0.1:${port}`, seen };
}

async function* requests(chunks: readonly Uint8Array[]): AsyncGenerator<BuildRequest> {
  yield create(BuildRequestSchema, { message: { case: "header", value: create(BuildHeaderSchema, { buildId: "b-7" }) } });
  for (const c of chunks) yield create(BuildRequestSchema, { message: { case: "chunk", value: c } });
}

async function digestOver(transport: Transport, chunks: readonly Uint8Array[]): Promise<string> {
  let digest = "";
  for await (const res of createClient(BuilderService, transport).build(requests(chunks))) {
    if (res.event?.event.case === "ready") {
      assert.equal(res.event.buildId, "b-7");
      digest = res.event.event.value.digest;
    }
  }
  return digest;
}

test("a Build stream gives the handler the same header and context over every protocol the port serves", async (t) => {
  const { server, baseUrl, seen } = await startServer();
  const sessions = new Http2SessionManager(baseUrl);
  t.after(async () => {
    sessions.abort();
    await server.close(0);
  });
  const chunks = [randomBytes(3), randomBytes(200_000), randomBytes(1 << 19), randomBytes(65_536), new Uint8Array(0), randomBytes(77)];
  const expected = createHash("sha256").update(Buffer.concat(chunks)).digest("hex");
  const transports: Record<string, Transport> = {
    "gRPC, framed by the main install": createNodeTransport({ baseUrl, sessionManager: sessions, interceptors: [] }),
    "gRPC, connect's encoder": createGrpcTransport({ baseUrl }),
    "gRPC, gzip": createGrpcTransport({ baseUrl, sendCompression: compressionGzip, compressMinBytes: 0 }),
    "Connect over HTTP/2": createConnectTransport({ baseUrl, httpVersion: "2" }),
    "gRPC-web over HTTP/2": createGrpcWebTransport({ baseUrl, httpVersion: "2" }),
  };
  for (const [name, transport] of Object.entries(transports)) assert.equal(await digestOver(transport, chunks), expected, name);
  // Over gRPC the context reached the handler as slices of the reads (more messages than were sent); over the others as sent.
  assert.ok((seen[0]?.chunks ?? 0) > chunks.length, `framed gRPC: ${seen[0]?.chunks} messages`);
  assert.equal(seen[3]?.chunks, chunks.length);
});

test("a Build message over the server's limit is refused with resource_exhausted, as connect refuses any other", async (t) => {
  const { server, baseUrl } = await startServer(64 * 1024);
  const sessions = new Http2SessionManager(baseUrl);
  t.after(async () => {
    sessions.abort();
    await server.close(0);
  });
  await assert.rejects(digestOver(createNodeTransport({ baseUrl, sessionManager: sessions, interceptors: [] }), [randomBytes(1000), randomBytes(200_000)]), (err: unknown) => {
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.ResourceExhausted);
    assert.match(err.rawMessage, /is larger than configured readMaxBytes 65536/);
    return true;
  });
});
