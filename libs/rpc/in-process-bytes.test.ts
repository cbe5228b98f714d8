import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { BuilderService, BuildHeaderSchema, type BuildRequest } from "../gen/buildplane/v1/builder_pb.js";
import { SourceService } from "../gen/buildplane/v1/source_pb.js";
import { createInProcessBytes } from "./in-process-bytes.js";

const header = create(BuildHeaderSchema, { buildId: "b1", containerfile: "Containerfile" });

function chunks(sizes: readonly number[]): Uint8Array[] {
  return sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
}

/** A router transport with the pair installed, and one router interceptor inside it that records what it sees. */
function transportWith(register: Parameters<typeof createRouterTransport>[0], seen: unknown[] = []) {
  const bytes = createInProcessBytes();
  const record: Interceptor = (next) => async (req) => {
    if (req.stream) {
      const input = req.message;
      req = { ...req, message: (async function* () { for await (const m of input) { seen.push(m); yield m; } })() };
    }
    return next(req);
  };
  return { bytes, transport: createRouterTransport(register, { transport: { interceptors: [bytes.client] }, router: { interceptors: [bytes.server, record] } }) };
}

describe("in-process bytes", () => {
  it("hands a client stream's chunks to the handler as the very buffers sent, header and order kept", async () => {
    const sent = chunks([1, 65536, 0, 1024 * 1024]);
    const received: BuildRequest[] = [];
    const seen: unknown[] = [];
    const { bytes, transport } = transportWith((router) => {
      router.service(BuilderService, {
        async *build(requests) {
          for await (const r of requests) received.push(r);
          yield { event: { event: { case: "ready", value: { image: "app:1", digest: "sha256:0" } } } };
        },
      });
    }, seen);
    const client = createClient(BuilderService, transport);
    async function* requests() {
      yield { message: { case: "header" as const, value: header } };
      for (const c of sent) yield { message: { case: "chunk" as const, value: c } };
    }
    const events = [];
    for await (const res of client.build(requests())) events.push(res.event?.event.case);
    assert.deepEqual(events, ["ready"]);
    assert.equal(received.length, 5);
    assert.equal(received[0]?.message.case, "header");
    assert.equal(received[0]?.message.case === "header" && received[0].message.value.buildId, "b1");
    for (const [i, c] of sent.entries()) {
      const m = received[i + 1]?.message;
      assert.equal(m?.case, "chunk");
      // The same object: not a copy of it.
      if (c.byteLength > 0) assert.equal(m?.value, c, `chunk ${i}`);
      else assert.equal((m?.value as Uint8Array).byteLength, 0);
    }
    // Interceptors inside the pair see the real bytes too.
    assert.equal((seen[4] as BuildRequest).message.value, sent[3]);
    assert.equal(bytes.calls(), 0);
  });

  it("hands a server stream's chunks to the caller as the very buffers the handler yielded", async () => {
    const yielded = chunks([10, 70000, 3]);
    const { bytes, transport } = transportWith((router) => {
      router.service(SourceService, {
        async *streamContext() {
          for (const [i, c] of yielded.entries()) yield { chunk: c, ...(i === yielded.length - 1 ? { totalBytes: 70013n, sha256: "abc" } : {}) };
        },
      });
    });
    const client = createClient(SourceService, transport);
    const got = [];
    for await (const res of client.streamContext({})) got.push(res);
    assert.deepEqual(got.map((r) => r.chunk), yielded);
    for (const [i, c] of yielded.entries()) assert.equal(got[i]?.chunk, c);
    assert.equal(got[2]?.totalBytes, 70013n);
    assert.equal(got[2]?.sha256, "abc");
    assert.equal(bytes.calls(), 0);
  });

  it("keeps the handler's error, code and message, and nothing of the call once it failed", async () => {
    const { bytes, transport } = transportWith((router) => {
      router.service(SourceService, {
        async *streamContext() {
          yield { chunk: new Uint8Array(8) };
          throw new ConnectError("the mirror is gone", Code.NotFound);
        },
      });
    });
    const client = createClient(SourceService, transport);
    const got: Uint8Array[] = [];
    const err = await (async () => {
      for await (const res of client.streamContext({})) got.push(res.chunk);
    })().then(() => assert.fail("expected the stream to fail"), (e: unknown) => ConnectError.from(e));
    assert.equal(err.code, Code.NotFound);
    assert.equal(err.rawMessage, "the mirror is gone");
    assert.deepEqual(got, [new Uint8Array(8)]);
    assert.equal(bytes.calls(), 0);
  });

  it("forgets a call its caller cancels while reading", async () => {
    const { bytes, transport } = transportWith((router) => {
      router.service(SourceService, {
        async *streamContext() {
          for (;;) yield { chunk: new Uint8Array(1024) };
        },
      });
    });
    const client = createClient(SourceService, transport);
    const abort = new AbortController();
    let n = 0;
    const err = await (async () => {
      for await (const res of client.streamContext({}, { signal: abort.signal })) {
        assert.equal(res.chunk.byteLength, 1024);
        if (++n === 3) {
          assert.equal(bytes.calls(), 1);
          abort.abort();
        }
      }
    })().then(() => assert.fail("expected the stream to be canceled"), (e: unknown) => ConnectError.from(e));
    assert.equal(err.code, Code.Canceled);
    assert.equal(n, 3);
    assert.equal(bytes.calls(), 0);
  });

  it("leaves unary calls and calls without its header alone; the header never reaches the handler", async () => {
    const headers: (string | null)[] = [];
    const bytes = createInProcessBytes();
    // Only the server side: a call it has no queue for passes as it came.
    const transport = createRouterTransport((router) => {
      router.service(SourceService, {
        async *streamContext(_req, ctx) {
          headers.push(ctx.requestHeader.get("buildplane-in-process-bytes"));
          yield { chunk: Uint8Array.of(1, 2, 3) };
        },
        async resolveRevision(_req, ctx) {
          headers.push(ctx.requestHeader.get("buildplane-in-process-bytes"));
          return { commit: "c0ffee" };
        },
      });
    }, { router: { interceptors: [bytes.server] } });
    const client = createClient(SourceService, transport);
    const got = [];
    for await (const res of client.streamContext({}, { headers: { "buildplane-in-process-bytes": "1" } })) got.push(res.chunk);
    assert.deepEqual(got, [Uint8Array.of(1, 2, 3)]);
    assert.equal((await client.resolveRevision({}, { headers: { "buildplane-in-process-bytes": "1" } })).commit, "c0ffee");
    assert.deepEqual(headers, [null, null]);
  });
});
