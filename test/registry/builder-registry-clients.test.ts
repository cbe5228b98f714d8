import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { pack } from "tar-stream";
import { composeServices, type ComposedServices } from "../../app/compose-services.js";
import { staticConfigSource } from "../../libs/config/config-source.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { BuildRequestSchema, type BuildRequest } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { RegistrySchema, type Registry } from "../../libs/gen/buildplane/v1/common_pb.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { runCommand } from "../helpers/run-command.js";
import { startRegistry, type TestRegistry } from "../helpers/start-registry.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";
import { startEcrEndpoint, type EcrEndpoint } from "./ecr-endpoint.js";
import { optionsFor } from "./fixtures.js";
import { startTokenServer, type TokenServer } from "./token-server.js";

/** A context whose Containerfile only names the base image: the build is instant, the push is real. */
async function contextTar(): Promise<Buffer> {
  const p = pack();
  p.entry({ name: "Containerfile" }, "FROM local/busybox:1\n");
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function* buildRequests(name: string, reference: string, registry: Registry, tar: Buffer): AsyncGenerator<BuildRequest> {
  yield create(BuildRequestSchema, {
    message: {
      case: "header",
      value: {
        buildId: `b_${name.replace(/[^a-z0-9]/g, "_")}`,
        image: { key: "k", name, reference },
        containerfile: "Containerfile",
        registry,
        labels: { "buildplane.test": name },
        timeoutSecs: 120,
      },
    },
  });
  yield create(BuildRequestSchema, { message: { case: "chunk", value: tar } });
}

/** The engine's name for the build of `tag`. */
function localName(tag: string): string {
  return `cli-pooltest:${tag.padStart(16, "0")}`;
}

/**
 * Builds `tag` of `repo` through the composed builder service (command mode,
 * the wiring of `app/factories/builder.ts`) and returns the pushed digest.
 */
async function buildAndPush(builder: ComposedServices, registry: Registry, repo: string, tag: string): Promise<string> {
  const name = localName(tag);
  let pushed = "";
  for await (const res of builder.clients.builder.build(buildRequests(name, `${registry.url}/${repo}:${tag}`, registry, await contextTar()))) {
    const e = res.event?.event;
    if (e?.case === "failed") assert.fail(`build ${name} failed: ${e.value.message}`);
    if (e?.case === "pushed") pushed = e.value.digest;
  }
  assert.match(pushed, /^sha256:[0-9a-f]{64}$/, `build ${name} reported its push`);
  return pushed;
}

describe("the command-mode builder keeps one registry client per destination across builds", () => {
  let data: TempDir;
  let builder: ComposedServices;
  const localNames: string[] = [];
  before(async () => {
    data = await tempDir("buildplane-pool-data-");
    const config = loadConfig({ env: { BUILDPLANE_SYSTEM_DATA_DIR: data.path, BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" } });
    assert.equal(config.builder.effectiveMode.kind, "command");
    builder = composeServices({ config: staticConfigSource(config), services: ["builder"], log: silentLogger });
  });
  after(async () => {
    await builder.close();
    await runCommand("docker", ["rmi", "--force", ...localNames]).catch(() => undefined);
    await data.remove();
  });

  describe("with [registry] type = ecr and the AWS SDK pointed at a GetAuthorizationToken endpoint of the test's own", () => {
    const password = "ecr-pool-password";
    let reg: TestRegistry;
    let ecr: EcrEndpoint;
    const saved = { ...process.env };
    before(async () => {
      reg = await startRegistry({ htpasswd: { username: "AWS", password } });
      ecr = await startEcrEndpoint({ username: "AWS", password, expiresInSecs: 12 * 3600 });
      // The SDK's own settings, as an operator would set them for a VPC endpoint: the builder makes its SDK client without one.
      process.env.AWS_ENDPOINT_URL_ECR = ecr.url;
      process.env.AWS_ACCESS_KEY_ID = "AKIDPOOLTEST";
      process.env.AWS_SECRET_ACCESS_KEY = "pool-test-secret";
      delete process.env.AWS_PROFILE;
    });
    after(async () => {
      process.env = saved;
      await reg.stop();
      await ecr.stop();
    });

    it("asks ECR for one token across two builds and pushes both", async () => {
      const target = create(RegistrySchema, { url: reg.host, type: "ecr", insecure: true, awsRegion: "eu-west-3" });
      localNames.push(localName("ecr-1"), localName("ecr-2"));
      const first = await buildAndPush(builder, target, "pool/ecr", "ecr-1");
      const second = await buildAndPush(builder, target, "pool/ecr", "ecr-2");
      assert.deepEqual(ecr.calls.map((c) => c.target), ["AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"]);
      assert.match(ecr.calls[0]?.authorization ?? "", /\/eu-west-3\/ecr\/aws4_request/);
      const check = createRegistryClient(optionsFor(reg, { insecure: true }));
      try {
        assert.equal((await check.headManifest("pool/ecr", "ecr-1"))?.digest, first);
        assert.equal((await check.headManifest("pool/ecr", "ecr-2"))?.digest, second);
      } finally { check.close(); }
    });
  });

  describe("with a registry in token auth mode (a token server of the test's own)", () => {
    const username = "pool-robot";
    const password = "pool-robot-secret";
    let dir: TempDir;
    let tokens: TokenServer;
    let reg: TestRegistry;
    before(async () => {
      dir = await tempDir("buildplane-pool-token-");
      tokens = await startTokenServer(dir.path, username, password);
      reg = await startRegistry({
        extraConfig: { auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: tokens.rootCertBundle } } },
      });
    });
    after(async () => {
      await reg.stop();
      await tokens.stop();
      await dir.remove();
    });

    it("requests each scope's token once across two builds and pushes both", async () => {
      const target = create(RegistrySchema, { url: reg.host, insecure: true, username, password });
      localNames.push(localName("token-1"), localName("token-2"));
      await buildAndPush(builder, target, "pool/tok", "token-1");
      const afterFirst = tokens.requests.map((s) => s.join(" "));
      await buildAndPush(builder, target, "pool/tok", "token-2");
      const all = tokens.requests.map((s) => s.join(" "));
      assert.ok(afterFirst.length > 0, "the first push asked for tokens");
      assert.deepEqual(all, afterFirst, "the second push reused every token of the first");
      assert.equal(new Set(all).size, all.length, "no scope was requested twice");
    });
  });
});
