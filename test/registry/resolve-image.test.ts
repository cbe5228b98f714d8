import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import Docker from "dockerode";
import { BuildSpecSchema, type BuildSpec } from "../../libs/gen/buildplane/v1/common_pb.js";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { createRegistryClient, type RegistryClient } from "../../libs/registry/registry-client.js";
import { pushImageArchive } from "../../libs/registry/push-image-archive.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { Secret } from "../../libs/secret/secret.js";
import { createEngine } from "../../libs/engine/engine.js";
import { createBuilderImageLocator, createRegistryImageLocator, type ImageLocator } from "../../services/resolver/image-locator.js";
import { createCommandBuilder } from "../../services/builder/command/command-builder.js";
import { BuilderService } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { createImageResolver } from "../../services/resolver/resolve-image.js";
import { createResolverService } from "../../services/resolver/service.js";
import { createSourcePort } from "../../services/resolver/source-port.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { buildTestImage, removeImage } from "./engine-image.js";
import { startFailingProxy, type FailingProxy } from "./failing-proxy.js";
import { optionsFor } from "./fixtures.js";

const docker = new Docker();
const treeHash = randomBytes(20).toString("hex");

/** The resolver service over an in-memory transport, with a tiny in-memory SourceService answering fixed values. */
function resolverClient(locator: ImageLocator, registry: { url: string; project: string } | undefined) {
  const sourceTransport = createRouterTransport((r) => {
    r.service(SourceService, {
      describe: (req) => ({ commit: "c".repeat(40), treeHash, containerfile: req.containerfile === "" ? "Containerfile" : req.containerfile }),
    });
  });
  const resolveImage = createImageResolver({ source: createSourcePort(createClient(SourceService, sourceTransport)), registry, locator });
  const transport = createRouterTransport((r) => {
    r.service(ResolverService, createResolverService({ resolveImage }));
  }, { router: { interceptors: [createErrorInterceptor(silentLogger)] } });
  return createClient(ResolverService, transport);
}

const spec = (extra: MessageInitShape<typeof BuildSpecSchema> = {}): BuildSpec =>
  create(BuildSpecSchema, { source: { repository: "https://example.com/acme/shop.git", ref: "main", dir: "web" }, appId: "app_prd_2abc", ...(extra as object) });

async function exportImage(ref: string): Promise<Readable> {
  return (await docker.getImage(ref).get()) as unknown as Readable;
}

describe("ResolveImage against a registry", () => {
  const id = randomBytes(4).toString("hex");
  const localTag = `cli-resolve-test-${id}:1`;
  let reg: TestRegistry;
  let proxy: FailingProxy;
  let client: RegistryClient;
  let removeTestImage: () => Promise<void>;
  before(async () => {
    reg = await startRegistry({ htpasswd: true });
    proxy = await startFailingProxy(reg.host, 0);
    client = createRegistryClient(optionsFor(reg, { url: proxy.host, insecure: true }));
    removeTestImage = await buildTestImage(docker, localTag, id);
  });
  after(async () => {
    client.close();
    await proxy.stop();
    await reg.stop();
    await removeTestImage();
  });

  it("reports a missing image, then finds it after a push, under url/project/name, caching only the positive answer", async () => {
    const resolver = resolverClient(createRegistryImageLocator(client), { url: proxy.host, project: "team" });
    const missing = await resolver.resolveImage({ spec: spec() });
    assert.equal(missing.exists, false);
    assert.equal(missing.foundIn, "");
    assert.equal(missing.commit, "c".repeat(40));
    assert.equal(missing.treeHash, treeHash);
    assert.match(missing.image?.name ?? "", /^cli-app_prd_2abc:[0-9a-f]{16}$/);
    assert.equal(missing.image?.reference, `${proxy.host}/team/${missing.image?.name ?? ""}`);

    const heads = () => proxy.seen.filter((s) => s.startsWith("HEAD ") && s.includes("/manifests/")).length;
    const before = heads();
    await resolver.resolveImage({ spec: spec() });
    assert.equal(heads(), before + 1, "a negative answer is asked again");

    const pushed = await pushImageArchive(client, await exportImage(localTag), missing.image?.reference ?? "");
    const found = await resolver.resolveImage({ spec: spec() });
    assert.deepEqual([found.exists, found.digest, found.foundIn], [true, pushed.digest, "registry"]);
    const afterFound = heads();
    const again = await resolver.resolveImage({ spec: spec({ requester: "someone else" }) });
    assert.equal(again.image?.name, found.image?.name, "runtime-only fields do not change the name");
    assert.equal(again.digest, pushed.digest);
    assert.equal(heads(), afterFound, "a positive answer is cached");
  });

  it("gives a new name when a build input changes", async () => {
    const resolver = resolverClient(createRegistryImageLocator(client), { url: proxy.host, project: "team" });
    const a = await resolver.resolveImage({ spec: spec() });
    const b = await resolver.resolveImage({ spec: spec({ target: "prod" }) });
    assert.notEqual(a.image?.name, b.image?.name);
  });

  it("answers Unauthenticated, not missing, when the registry rejects the credentials", async () => {
    const bad = createRegistryClient(optionsFor(reg, { password: new Secret("wrong-pw-9"), insecure: true }), { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    try {
      const resolver = resolverClient(createRegistryImageLocator(bad), { url: reg.host, project: "" });
      await assert.rejects(resolver.resolveImage({ spec: spec() }), (err: unknown) => {
        assert.ok(err instanceof ConnectError);
        assert.equal(err.code, Code.Unauthenticated);
        assert.equal(err.rawMessage, `registry "${reg.host}" rejected the credentials of user "tester"`);
        assert.ok(!err.message.includes("wrong-pw-9"));
        return true;
      });
    } finally { bad.close(); }
  });

  it("answers InvalidArgument naming the arg when a build arg is given twice", async () => {
    const resolver = resolverClient(createRegistryImageLocator(client), { url: proxy.host, project: "" });
    const args = [{ name: "X", value: "1" }, { name: "X", value: "2" }];
    await assert.rejects(resolver.resolveImage({ spec: spec({ args }) }), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.InvalidArgument);
      assert.equal(err.rawMessage, 'build arg "X" is given twice: expected each name once');
      return true;
    });
  });

  it("answers InvalidArgument when the request has no spec", async () => {
    const resolver = resolverClient(createRegistryImageLocator(client), undefined);
    await assert.rejects(resolver.resolveImage({}), (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.InvalidArgument);
      assert.equal(err.rawMessage, "resolve image request has no spec: expected spec.source.repository at least");
      return true;
    });
  });
});

describe("ResolveImage against the local engine when no registry is configured", () => {
  const id = randomBytes(4).toString("hex");
  const tags: string[] = [];
  after(async () => { for (const t of tags) await removeImage(docker, t); });

  it("finds an image the builder's engine holds under the generated local name, and reports one it lacks", async () => {
    const engine = await createEngine({ command: "docker" });
    const builder = createCommandBuilder({ engine, engineName: "docker", push: async () => assert.fail("nothing is pushed here") });
    const builderService = createRouterTransport((r) => {
      r.service(BuilderService, { hasImage: (req, ctx) => builder.hasImage(req.reference, ctx.signal) });
    });
    const resolver = resolverClient(createBuilderImageLocator(createClient(BuilderService, builderService)), undefined);
    const s = spec({ appId: `app_dev_${id}` });
    const missing = await resolver.resolveImage({ spec: s });
    assert.equal(missing.exists, false);
    const name = missing.image?.name ?? "";
    assert.equal(missing.image?.reference, name);
    await docker.getImage("local/busybox:1").tag({ repo: name.split(":")[0] ?? "", tag: name.split(":")[1] ?? "" });
    tags.push(name);
    const found = await resolver.resolveImage({ spec: s });
    assert.equal(found.exists, true);
    assert.equal(found.foundIn, "engine");
    assert.match(found.digest, /^sha256:[0-9a-f]{64}$/);
  });
});
