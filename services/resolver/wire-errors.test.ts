import assert from "node:assert/strict";
import http2 from "node:http2";
import { describe, test } from "node:test";
import { Code, ConnectError, createClient, createRouterTransport, type ServiceImpl } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DomainError } from "../../libs/errors/domain-error.js";
import { BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { errorCodeOf } from "../../libs/rpc/code-names.js";
import { createErrorInterceptor, toConnectError } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/rpc-logger.js";
import { createFakeMetadata, createFakeResolve, createFakeSource } from "../../test/resolver/fake-ports.js";
import { BuildQueueFullError } from "../builder/build-slots.js";
import { createBuilderPort } from "./builder-port.js";
import { CallError } from "./call-error.js";
import { createEnsureImage } from "./ensure-image.js";
import { MetadataOutageError } from "./flow-errors.js";
import { holderIdentity } from "./holder-identity.js";
import { createMetadataPort } from "./metadata-port.js";
import { createOutageBudget } from "./outage-budget.js";
import { createResolverService } from "./service.js";
import { errorFromWire, signalFromWire } from "./wire-in.js";

const limit = { timeout: 30_000 };
const router = { router: { interceptors: [createErrorInterceptor(silentLogger)] } };
const codes = Object.values(Code).filter((c): c is Code => typeof c === "number");

/** `err` as a CallError, failing the test otherwise. */
function callError(err: unknown): CallError {
  assert.ok(err instanceof CallError, `expected a CallError, got ${String(err)}`);
  return err;
}

/** The error `p` rejects with. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("expected a failure");
}

/** The resolver's RPC errors: in as `CallError` at its ports, out as the same `ConnectError` at its handlers. */
describe("resolver error edge", () => {
  test("an RPC error becomes a domain error with its code and message, and goes back out as the same RPC error", () => {
    for (const code of codes) {
      const inbound = callError(errorFromWire(new ConnectError(`a ${Code[code]} answer: expected another`, code)));
      assert.deepEqual([inbound.code, inbound.message, inbound.connectionLost], [errorCodeOf(code), `a ${Code[code]} answer: expected another`, false]);
      const out = toConnectError(inbound, silentLogger, "test/Call");
      assert.ok(out instanceof ConnectError);
      assert.deepEqual([out.code, out.rawMessage], [code, `a ${Code[code]} answer: expected another`], Code[code]);
    }
  });

  test("keeps a retry-after hint and sends it again, and no other header of the call", () => {
    const inbound = callError(errorFromWire(new ConnectError("the build queue is full", Code.ResourceExhausted, { "retry-after": "10", "content-type": "application/grpc" })));
    assert.equal(inbound.retryAfterSecs, 10);
    const out = toConnectError(inbound, silentLogger, "test/Call");
    assert.ok(out instanceof ConnectError);
    assert.deepEqual([...out.metadata.entries()], [["retry-after", "10"]]);
    assert.equal(callError(errorFromWire(new ConnectError("x", Code.Unavailable, { "retry-after": "soon" }))).retryAfterSecs, undefined);
  });

  test("tells a stream reset, which no status explains, from a cancel the other end sent", () => {
    assert.equal(callError(errorFromWire(new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled))).connectionLost, true);
    assert.equal(callError(errorFromWire(new ConnectError("build b_1 was canceled", Code.Canceled))).connectionLost, false);
    assert.equal(callError(errorFromWire(new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Unavailable))).connectionLost, false);
  });

  test("a CallError of ours that a client wrapped on its way through comes back as itself", async () => {
    const ours = new CallError("notFound", 'ref "v9" of https://example.com/acme/shop.git does not exist');
    assert.equal(errorFromWire(new ConnectError(ours.message, Code.Internal, undefined, undefined, ours)), ours);
    // A call stopped with it as the reason, as the flow stops a build with its caller's deadline.
    const slow: Partial<ServiceImpl<typeof BuilderService>> = { getStatus: () => new Promise(() => undefined) };
    const builder = createBuilderPort(createClient(BuilderService, createRouterTransport((r) => r.service(BuilderService, slow), router)));
    const stop = new AbortController();
    const call = rejection(builder.checkServable({ buildId: "r", secretArgs: [], hasRegistry: false }, stop.signal));
    stop.abort(ours);
    assert.equal(await call, ours);
  });

  test("leaves what is not an RPC error as it is", () => {
    const own = new DomainError("invalidArgument", "builder.mode is not valid");
    const plain = new Error("boom");
    assert.equal(errorFromWire(own), own);
    assert.equal(errorFromWire(plain), plain);
    const hidden = toConnectError(plain, silentLogger, "test/Call");
    assert.deepEqual([hidden.code, hidden.rawMessage], [Code.Internal, "internal error"], "a plain error is left to the shared mapping, which hides it");
  });

  test("a handler's signal stopped by an RPC status reaches the flow with that status as a CallError", () => {
    const call = new AbortController();
    const signal = signalFromWire(call.signal);
    assert.equal(signal.aborted, false);
    call.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
    const reason = callError(signal.reason);
    assert.deepEqual([reason.code, reason.message], ["deadlineExceeded", "the operation timed out"]);
    const plain = new AbortController();
    plain.abort();
    const gone = signalFromWire(plain.signal);
    assert.equal(gone.aborted, true);
    assert.equal(gone.reason, plain.signal.reason);
  });

  test("a service that cannot be reached is unavailable to the flow, which the outage budget rides out and then names", limit, async () => {
    const metadata = createMetadataPort(createClient(MetadataService, createGrpcTransport({ baseUrl: "http://127.0.0.1:1" })));
    const refused = callError(await rejection(metadata.renew({ key: "build:k1", holder: "h", token: 1n, ttlMs: 1000 })));
    assert.equal(refused.code, "unavailable");
    let clock = 0;
    const budget = createOutageBudget({ budgetMs: 3000, firstDelayMs: 1, maxDelayMs: 1, now: () => (clock += 1000) });
    const err = await rejection(budget.run("renewing build lease build:k1", () => metadata.renew({ key: "build:k1", holder: "h", token: 1n, ttlMs: 1000 })));
    assert.ok(err instanceof MetadataOutageError);
    assert.equal(err.code, "unavailable");
    assert.match(err.message, /^the metadata database was unavailable for more than 3 s \(\[metadata\] outage_budget_secs\) while renewing build lease build:k1: /);
    assert.ok(err.message.endsWith(refused.message), "it names the last refusal");
  });

  test("a metadata service answering unavailable is retried within the budget", limit, async () => {
    let calls = 0;
    const away: Partial<ServiceImpl<typeof MetadataService>> = {
      async renewLease() {
        if (++calls < 3) throw new DomainError("unavailable", "metadata database postgres at db:5432/x is not available: Connection terminated");
        return {};
      },
    };
    const metadata = createMetadataPort(createClient(MetadataService, createRouterTransport((r) => r.service(MetadataService, away), router)));
    const budget = createOutageBudget({ budgetMs: 10_000, firstDelayMs: 1, maxDelayMs: 2 });
    await budget.run("renewing build lease build:k1", () => metadata.renew({ key: "build:k1", holder: "h", token: 1n, ttlMs: 1000 }));
    assert.equal(calls, 3);
  });

  test("a builder whose stream is reset mid-build fails the build unavailable: the builder may have stopped", limit, async () => {
    const server = http2.createServer();
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on("session", (s) => sessions.add(s));
    // The builder's end goes away mid-build: its Build stream is reset without a status.
    server.on("stream", (stream) => setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 20));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const status = createClient(BuilderService, createRouterTransport((r) => r.service(BuilderService, { getStatus: async () => ({}) }), router));
      const builds = createClient(BuilderService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
      const builder = createBuilderPort({ getStatus: (req, opts) => status.getStatus(req, opts), build: (req, opts) => builds.build(req, opts) });
      const { flow, metadata } = ensureFlow(builder);
      const { events, error } = await collect(flow);
      const message = "the connection to the builder was lost (http/2 stream closed with error code CANCEL (0x8)): the builder may have stopped; retry the build";
      assert.ok(error instanceof DomainError);
      assert.deepEqual([error.code, error.message], ["unavailable", `build b_1: ${message}`]);
      const failed = events.at(-1);
      assert.ok(failed?.type === "failed");
      assert.deepEqual([failed.code, failed.message], ["unavailable", `build b_1: ${message}`]);
      assert.deepEqual([metadata.builds.get("b_1")?.status, metadata.builds.get("b_1")?.errorCode], ["failed", "unavailable"]);
    } finally {
      for (const s of sessions) s.destroy();
      server.close();
    }
  });

  test("a caller of EnsureImage gets the builder's RPC error word for word, with its retry-after, through the flow's domain errors", limit, async () => {
    const full: Partial<ServiceImpl<typeof BuilderService>> = {
      getStatus: async () => ({}),
      build: async function* () {
        yield* [];
        throw new BuildQueueFullError(1, 1, 7);
      },
    };
    const builder = createBuilderPort(createClient(BuilderService, createRouterTransport((r) => r.service(BuilderService, full), router)));
    const { flow } = ensureFlow(builder);
    const resolver = createClient(
      ResolverService,
      createRouterTransport((r) => r.service(ResolverService, createResolverService({ resolveImage: () => assert.fail("not resolved here"), ensureImage: flow })), router),
    );
    const codes: string[] = [];
    const err = await rejection((async () => {
      for await (const res of resolver.ensureImage({ spec: { containerfile: "Containerfile" } })) if (res.event?.event.case === "failed") codes.push(res.event.event.value.code);
    })());
    const message = "the build queue is full: 1 build waits for 1 slot (builder.max_queue = 1): retry in 7s or on another replica";
    assert.ok(err instanceof ConnectError);
    assert.deepEqual([err.code, err.rawMessage, err.metadata.get("retry-after")], [Code.ResourceExhausted, message, "7"]);
    assert.deepEqual(codes, ["resource_exhausted"]);
  });
});

/** The EnsureImage flow over fake metadata and source and the given builder port. */
function ensureFlow(builder: ReturnType<typeof createBuilderPort>) {
  const metadata = createFakeMetadata();
  const flow = createEnsureImage({
    ports: { source: createFakeSource(), builder, metadata },
    resolve: createFakeResolve().resolve,
    registry: async () => undefined,
    holder: holderIdentity("host-edge", process.pid, "edge0001"),
    mode: "command",
    timeoutSecs: 60,
    leaseTtlMs: 60_000,
    outageBudgetMs: 1_000,
  });
  return { flow, metadata };
}

/** Every event of one call and the error it ended with. */
async function collect(flow: ReturnType<typeof createEnsureImage>) {
  const events = [];
  try {
    for await (const e of flow({ appId: "", source: undefined, containerfile: "", args: [], target: "", platform: "", requester: "" }, false, AbortSignal.timeout(10_000))) events.push(e);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}
