import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { BuilderService, BuildRequestSchema } from "../gen/buildplane/v1/builder_pb.js";
import { Secret } from "../secret/secret.js";
import { silentLogger } from "./logger.js";
import { createCredentials } from "./credentials.js";
import { createRpcServer } from "./rpc-server.js";
import { createServiceClients } from "./service-clients.js";
import { mountService, type MountedService } from "./service-mount.js";
import { createFixtureBuilderService, createFixtureConfigService } from "./test-fixtures.js";

async function failure(p: Promise<unknown>): Promise<ConnectError> {
  return p.then(() => assert.fail("expected the call to fail"), (e: unknown) => ConnectError.from(e));
}

describe("service clients", () => {
  it("call a service mounted in this process without a socket, with errors mapped as on the wire", async () => {
    const local = [createFixtureConfigService()];
    const clients = createServiceClients({ local: () => local, urls: {}, log: silentLogger });
    assert.equal((await clients.config.getConfig({})).config?.sourceFile, "fixture.toml");
    const err = await failure(clients.config.getRegistryCredentials({}));
    assert.equal(err.code, Code.Internal);
    assert.equal(err.rawMessage, "internal error");
  });

  it("stream from a service in this process", async () => {
    const local = [createFixtureConfigService()];
    const clients = createServiceClients({ local: () => local, urls: {}, log: silentLogger });
    const abort = new AbortController();
    const seen: string[] = [];
    await failure((async () => {
      for await (const res of clients.config.watchConfig({}, { signal: abort.signal })) {
        seen.push(res.config?.sourceFile ?? "");
        abort.abort();
      }
    })());
    assert.deepEqual(seen, ["fixture.toml"]);
  });

  it("run a bidi stream in this process", async () => {
    const local = [createFixtureBuilderService()];
    const clients = createServiceClients({ local: () => local, urls: {}, log: silentLogger });
    async function* requests() {
      yield create(BuildRequestSchema, { message: { case: "header", value: { buildId: "b1" } } });
      yield create(BuildRequestSchema, { message: { case: "header", value: { buildId: "b2" } } });
    }
    const ids: string[] = [];
    for await (const res of clients.builder.build(requests())) ids.push(res.event?.buildId ?? "");
    assert.deepEqual(ids, ["b1", "b2"]);
  });

  it("hand a streamed context chunk to a service in this process as the very buffer sent, not a copy", async () => {
    const received: Uint8Array[] = [];
    const local = [
      mountService(BuilderService, {
        async *build(requests) {
          for await (const req of requests) if (req.message.case === "chunk") received.push(req.message.value);
          yield { event: { buildId: "b1", event: { case: "ready", value: { image: "app:1", digest: "sha256:0" } } } };
        },
        cancelBuild: () => ({}),
        hasImage: () => ({ exists: false }),
        getStatus: () => ({}),
      }),
    ];
    const clients = createServiceClients({ local: () => local, urls: {}, log: silentLogger });
    const sent = [new Uint8Array(1024 * 1024).fill(1), new Uint8Array(3).fill(2)];
    async function* requests() {
      yield create(BuildRequestSchema, { message: { case: "header", value: { buildId: "b1" } } });
      for (const chunk of sent) yield create(BuildRequestSchema, { message: { case: "chunk", value: chunk } });
    }
    const events: (string | undefined)[] = [];
    for await (const res of clients.builder.build(requests())) events.push(res.event?.event.case);
    assert.deepEqual(events, ["ready"]);
    assert.equal(received.length, 2);
    assert.equal(received[0], sent[0]);
    assert.equal(received[1], sent[1]);
  });

  it("reach a service mounted after a first call in this process (a factory's watch starts while the rest are mounted)", async () => {
    const local: MountedService[] = [createFixtureConfigService()];
    const clients = createServiceClients({ local: () => local, urls: {}, log: silentLogger });
    assert.equal((await clients.config.getConfig({})).config?.sourceFile, "fixture.toml");
    const before = await failure((async () => {
      for await (const _ of clients.builder.build(requests("b0"))) assert.fail("no builder is mounted yet");
    })());
    assert.equal(before.code, Code.Unavailable);
    assert.match(before.rawMessage, /^service builder does not run in this process and \[services\] builder_url is not set$/);
    local.push(createFixtureBuilderService());
    const ids: string[] = [];
    for await (const res of clients.builder.build(requests("b1"))) ids.push(res.event?.buildId ?? "");
    assert.deepEqual(ids, ["b1"]);
    assert.equal((await clients.config.getConfig({})).config?.sourceFile, "fixture.toml");
  });

  it("reach a service in another process over gRPC with the bearer token", async (t) => {
    const token = new Secret("remote-token-1");
    const server = createRpcServer({ host: "127.0.0.1", port: 0, services: [createFixtureConfigService()], credentials: createCredentials({ tokens: [{ name: "test", token, scopes: ["read"] }], clientScopes: {}, mutualTls: false }), log: silentLogger });
    const { port } = await server.listen();
    t.after(() => server.close(0));
    const url = `http://127.0.0.1:${port}`;
    const withToken = createServiceClients({ local: () => [], urls: { config: url }, token, log: silentLogger });
    t.after(() => withToken.close());
    assert.equal((await withToken.config.getConfig({})).config?.sourceFile, "fixture.toml");
    const withoutToken = createServiceClients({ local: () => [], urls: { config: url }, log: silentLogger });
    t.after(() => withoutToken.close());
    const err = await failure(withoutToken.config.getConfig({}));
    assert.equal(err.code, Code.Unauthenticated);
    assert.equal(err.rawMessage, "missing bearer token");
  });

  it("answer Unavailable for a service neither here nor configured", async () => {
    const clients = createServiceClients({ local: () => [], urls: { source: "" }, log: silentLogger });
    const err = await failure(clients.source.resolveRevision({}));
    assert.equal(err.code, Code.Unavailable);
    assert.equal(err.rawMessage, "service source does not run in this process and [services] source_url is not set");
  });
});

async function* requests(buildId: string) {
  yield create(BuildRequestSchema, { message: { case: "header", value: { buildId } } });
}
