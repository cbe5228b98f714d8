import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { describe, it } from "node:test";
import { BuildSpecSchema } from "../../libs/gen/buildplane/v1/common_pb.js";
import type { EnsureImageFromContextRequest } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { prepareFolderUpload } from "../../bin/commands/build-upload.js";
import { tempDir } from "../helpers/temp-dir.js";
import { makeAppFolder, resolverClient, spoolsLeft, startUploadServer } from "../security/upload-fixtures.js";
import { eventually, removeImages, runImage } from "./app-fixture.js";
import { cliEnv, describeRun, runCli } from "./cli-process.js";

describe("buildplane build <folder> --server", () => {
  it("uploads the folder, builds it under the name an in-process build gives it, then answers from cache without a build", async (t) => {
    const folder = await makeAppFolder();
    const server = await startUploadServer();
    const clientData = await tempDir("buildplane-e2e-data-");
    const images: string[] = [];
    t.after(async () => {
      await server.stop();
      await removeImages("docker", images);
      await folder.remove();
      await clientData.remove();
    });
    const client = cliEnv(clientData.path);
    const args = ["build", folder.path, "--arg", "GREETING=hej", "--json"];

    const first = await runCli([...args, "--server", server.serve.url], client);
    assert.equal(first.code, 0, describeRun(first));
    assert.equal(first.last?.type, "ready", describeRun(first));
    assert.equal(first.last["cached"], false);
    const image = String(first.last["image"]);
    images.push(image);
    assert.ok(first.events.some((e) => e.type === "log"), "the build's log lines travel back");
    const output = await runImage(image);
    assert.match(output, /^hej from widget$/m);
    assert.match(output, /files: .*name\.txt/);
    assert.doesNotMatch(output, /notes\.log/, "the .dockerignore'd file is not in the image");

    const second = await runCli([...args, "--server", server.serve.url], client);
    assert.equal(second.code, 0, describeRun(second));
    assert.deepEqual(second.events, [{ type: "ready", image, digest: first.last["digest"], cached: true, buildId: "" }]);

    // An existing image is answered from the header alone: this upload never ends, and the call still does.
    const { client: raw, drop } = resolverClient(server.serve.url);
    t.after(() => drop());
    const spec = create(BuildSpecSchema, { source: { repository: folder.path }, args: [{ name: "GREETING", value: "hej" }] });
    const upload = await prepareFolderUpload(spec, false, AbortSignal.timeout(30_000));
    async function* headerOnly(): AsyncGenerator<EnsureImageFromContextRequest> {
      for await (const m of upload.requests) {
        yield m;
        await new Promise(() => undefined);
      }
    }
    const answered: unknown[] = [];
    for await (const res of raw.ensureImageFromContext(headerOnly(), { signal: AbortSignal.timeout(20_000) })) answered.push(res.event?.event.value);
    assert.deepEqual(answered.map((v) => ({ ...(v as object) })), [{ $typeName: "buildplane.v1.Ready", image, digest: first.last["digest"], cached: true }]);

    // Same engine: the in-process build finds the image the server built, because it names it the same.
    const local = await runCli(args, client);
    assert.equal(local.code, 0, describeRun(local));
    assert.deepEqual(local.events, [{ type: "ready", image, digest: first.last["digest"], cached: true, buildId: "" }]);

    const records = await runCli(["builds", "list", "--json", "--server", server.serve.url], client);
    const onServer = JSON.parse(records.stdout) as { id: string; status: string }[];
    assert.deepEqual(onServer.map((b) => [b.id, b.status]), [[first.last["buildId"], "succeeded"]], "one build for the three calls");
    assert.deepEqual(await spoolsLeft(server.tmp.path), [], "the spooled upload is removed once built");
  });

  it("refuses a context over [builder] max_upload_bytes with resource_exhausted, builds nothing and leaves nothing on the server's disk", async (t) => {
    const folder = await makeAppFolder({ "big.bin": Buffer.alloc(256 * 1024, 7) });
    const server = await startUploadServer({ BUILDPLANE_BUILDER_MAX_UPLOAD_BYTES: String(64 * 1024) });
    const clientData = await tempDir("buildplane-e2e-data-");
    t.after(async () => {
      await server.stop();
      await folder.remove();
      await clientData.remove();
    });
    const client = cliEnv(clientData.path);

    const run = await runCli(["build", folder.path, "--json", "--server", server.serve.url], client);
    assert.equal(run.code, 1, describeRun(run));
    assert.equal(run.last?.type, "failed", describeRun(run));
    assert.equal(run.last["code"], "resource_exhausted");
    assert.equal(
      run.last["message"],
      "uploaded build context is larger than builder.max_upload_bytes (65536 bytes): shrink the context (.dockerignore) or raise the limit",
    );
    assert.deepEqual(await spoolsLeft(server.tmp.path), []);
    const records = await runCli(["builds", "list", "--json", "--server", server.serve.url], client);
    assert.deepEqual(JSON.parse(records.stdout), [], "no build was recorded");
  });

  it("removes the spool of a client whose connection dies mid-upload", async (t) => {
    const folder = await makeAppFolder({ "big.bin": Buffer.alloc(512 * 1024, 1) });
    const server = await startUploadServer();
    const clientData = await tempDir("buildplane-e2e-data-");
    const { client, drop } = resolverClient(server.serve.url);
    t.after(async () => {
      drop();
      await server.stop();
      await folder.remove();
      await clientData.remove();
    });
    const spec = create(BuildSpecSchema, { source: { repository: folder.path }, requester: "test" });
    const upload = await prepareFolderUpload(spec, false, AbortSignal.timeout(60_000));
    let stall!: () => void;
    const stalled = new Promise<void>((r) => (stall = r));
    // The header and one chunk go out, then the client hangs as a dying process would.
    async function* dying(): AsyncGenerator<EnsureImageFromContextRequest> {
      let sent = 0;
      for await (const m of upload.requests) {
        yield m;
        if (m.message.case === "chunk" && ++sent === 1) {
          stall();
          await new Promise(() => undefined);
        }
      }
    }
    const call = (async () => {
      for await (const _ of client.ensureImageFromContext(dying())) void _;
    })();
    call.catch(() => undefined);
    await stalled;
    assert.ok(await eventually(async () => (await spoolsLeft(server.tmp.path)).length === 1, 10_000), "the server spools the upload while it arrives");

    drop();
    assert.ok(await eventually(async () => (await spoolsLeft(server.tmp.path)).length === 0, 10_000), "the spool is removed once the connection is gone");
    const records = await runCli(["builds", "list", "--json", "--server", server.serve.url], cliEnv(clientData.path));
    assert.deepEqual(JSON.parse(records.stdout), [], "no build was started");
  });
});
