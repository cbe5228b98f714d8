import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { createContextValues, type Interceptor } from "@connectrpc/connect";
import { BuildHeaderSchema, BuildRequestSchema, BuilderService, type BuildRequest } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { ImageRefSchema } from "../../libs/gen/buildplane/v1/common_pb.js";
import { callerScopesKey } from "../../libs/rpc/caller-identity.js";
import type { Scope } from "../../libs/rpc/scope-names.js";
import { createBuilderNodeGuard } from "./node-guard.js";

// The node guard of `serve`'s TCP listener, called as connect-node calls an
// interceptor: a delegated build (node credential) against a split peer's
// build (the services token, scope internal).

type StreamRequest = Parameters<ReturnType<Interceptor>>[0];

function header(reference: string): BuildRequest {
  const image = create(ImageRefSchema, { name: reference, reference });
  return create(BuildRequestSchema, { message: { case: "header", value: create(BuildHeaderSchema, { buildId: "b1", image }) } });
}

function chunk(bytes: number): BuildRequest {
  return create(BuildRequestSchema, { message: { case: "chunk", value: new Uint8Array(bytes) } });
}

/** Runs the guard on a Build stream from a caller with `scopes`; resolves with the messages the service would read. */
async function guardBuild(scopes: Scope[], messages: BuildRequest[], options: { adminOverTcp: boolean; maxUploadBytes?: number }): Promise<BuildRequest[]> {
  const guard = createBuilderNodeGuard({ adminOverTcp: options.adminOverTcp, maxUploadBytes: options.maxUploadBytes ?? 1024 });
  const contextValues = createContextValues().set(callerScopesKey, new Set(scopes));
  const seen: BuildRequest[] = [];
  const next = (async (req: StreamRequest) => {
    for await (const m of req.message as AsyncIterable<BuildRequest>) seen.push(m);
    return undefined;
  }) as unknown as Parameters<Interceptor>[0];
  const req = {
    stream: true,
    service: BuilderService,
    method: BuilderService.method.build,
    contextValues,
    message: (async function* () {
      yield* messages;
    })(),
  } as unknown as StreamRequest;
  await guard(next)(req);
  return seen;
}

test("a delegated build (node credential) needs admin_over_tcp and a registry host in its reference", { timeout: 10_000 }, async () => {
  await assert.rejects(guardBuild(["node"], [header("cli-app:0123456789abcdef")], { adminOverTcp: false }), (err: Error & { code?: string }) => {
    assert.equal(err.code, "permissionDenied");
    assert.equal(err.message, "delegated builds over TCP need [security] admin_over_tcp = true on this builder node");
    return true;
  });
  await assert.rejects(guardBuild(["node"], [header("cli-app:0123456789abcdef")], { adminOverTcp: true }), (err: Error & { code?: string }) => {
    assert.equal(err.code, "invalidArgument");
    assert.match(err.message, /^build of "cli-app:0123456789abcdef" names no registry: a builder node builds only images it pushes/);
    return true;
  });
});

test("a split peer's build (services token, scope internal) passes without admin_over_tcp and may keep the image on the engine", { timeout: 10_000 }, async () => {
  const seen = await guardBuild(["internal", "node", "read"], [header("cli-app:0123456789abcdef"), chunk(100)], { adminOverTcp: false });
  assert.equal(seen.length, 2);
  assert.equal(seen[0]?.message.case, "header");
  assert.equal(seen[0]?.message.case === "header" ? seen[0].message.value.image?.reference : "", "cli-app:0123456789abcdef");
});

test("a split peer's build is still cut at the upload limit", { timeout: 10_000 }, async () => {
  await assert.rejects(guardBuild(["internal"], [header("cli-app:0123456789abcdef"), chunk(600), chunk(600)], { adminOverTcp: false, maxUploadBytes: 1000 }), (err: Error & { code?: string }) => {
    assert.equal(err.code, "resourceExhausted");
    assert.match(err.message, /^build context is larger than builder\.max_upload_bytes \(1000 bytes\)/);
    return true;
  });
});
