import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { pack, type Header } from "tar-stream";

type LooseHeader = Partial<Header> & { readonly name: string };
import { BuildSpecSchema } from "../../libs/gen/buildplane/v1/common_pb.js";
import { UploadHeaderSchema, type EnsureImageFromContextRequest } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { prepareFolderUpload } from "../../bin/commands/build-upload.js";
import { makeAppFolder, resolverClient, spoolsLeft, startUploadServer, type UploadServer } from "./upload-fixtures.js";

/** A tar of `entries` as the test writes it, whatever its headers say. */
async function hostileTar(entries: readonly { header: LooseHeader; body?: string }[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) p.entry(e.header as Header, e.body ?? "");
  p.finalize();
  const parts: Buffer[] = [];
  for await (const piece of p as AsyncIterable<Buffer>) parts.push(piece);
  return Buffer.concat(parts);
}

function header(overrides: { tree?: string; repository?: string } = {}): EnsureImageFromContextRequest {
  return {
    $typeName: "buildplane.v1.EnsureImageFromContextRequest",
    message: {
      case: "header",
      value: create(UploadHeaderSchema, {
        spec: create(BuildSpecSchema, { containerfile: "Containerfile", requester: "attacker", ...(overrides.repository ? { source: { repository: overrides.repository } } : {}) }),
        folder: "/home/attacker/app",
        treeHash: overrides.tree ?? `sha256:${randomBytes(32).toString("hex")}`,
      }),
    },
  };
}

const chunk = (value: Uint8Array): EnsureImageFromContextRequest => ({ $typeName: "buildplane.v1.EnsureImageFromContextRequest", message: { case: "chunk", value } });

describe("uploading a build context to buildplane serve", () => {
  let server: UploadServer;
  let call: (messages: readonly EnsureImageFromContextRequest[] | AsyncIterable<EnsureImageFromContextRequest>) => Promise<unknown[]>;
  let drop: () => void;
  before(async () => {
    server = await startUploadServer();
    const c = resolverClient(server.serve.url);
    drop = c.drop;
    call = async (messages) => {
      async function* stream(): AsyncGenerator<EnsureImageFromContextRequest> {
        yield* messages;
      }
      const events: unknown[] = [];
      for await (const res of c.client.ensureImageFromContext(stream())) events.push(res.event?.event.case);
      return events;
    };
  });
  after(async () => {
    drop();
    await server.stop();
  });

  const refused = (code: Code, message: string) => (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.rawMessage, message);
    return true;
  };

  it("refuses a context whose entries do not hash to the tree hash that named the image, and builds nothing under that name", async (t) => {
    const honest = await makeAppFolder();
    const other = await makeAppFolder({ "main.sh": "echo poisoned\n" });
    t.after(async () => {
      await honest.remove();
      await other.remove();
    });
    // The header of the honest folder, the bytes of another one.
    const claimed = await prepareFolderUpload(create(BuildSpecSchema, { source: { repository: honest.path } }), false, AbortSignal.timeout(30_000));
    const sent = await prepareFolderUpload(create(BuildSpecSchema, { source: { repository: other.path } }), false, AbortSignal.timeout(30_000));
    const messages: EnsureImageFromContextRequest[] = [];
    for await (const m of claimed.requests) if (m.message.case === "header") messages.push(m);
    for await (const m of sent.requests) if (m.message.case === "chunk") messages.push(m);
    const h = messages[0]?.message.value as { spec?: { containerfile: string } };
    assert.equal(h.spec?.containerfile, "Containerfile");

    await assert.rejects(
      call(messages),
      refused(
        Code.InvalidArgument,
        `uploaded context hashes to ${sent.treeHash}, not to the header's tree_hash ${claimed.treeHash}: expected the hash of the uploaded entries (did the folder change during the upload?)`,
      ),
    );
    // Had the other bytes been built, the honest header alone would now be answered "ready, cached".
    const emptyContext = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    await assert.rejects(
      call(messages.slice(0, 1)),
      refused(Code.InvalidArgument, `uploaded context hashes to ${emptyContext}, not to the header's tree_hash ${claimed.treeHash}: expected the hash of the uploaded entries (did the folder change during the upload?)`),
    );
    assert.deepEqual(await spoolsLeft(server.tmp.path), []);
  });

  it("refuses a header that names a repository: an upload never makes the server read a path", async () => {
    await assert.rejects(
      call([header({ repository: "/etc" })]),
      refused(Code.InvalidArgument, "upload header spec.source must be unset: the context comes in the upload, and header.folder names the caller's folder"),
    );
  });

  it("refuses entries that leave the folder, through a plain name or a PAX path record, and hard links", async () => {
    const containerfile = { header: { name: "Containerfile", type: "file" as const, mode: 0o644 }, body: "FROM local/busybox:1\n" };
    const cases: { entries: { header: LooseHeader; body?: string }[]; message: string }[] = [
      {
        entries: [containerfile, { header: { name: "../escape.txt", type: "file", mode: 0o644 }, body: "x" }],
        message: `uploaded context entry "../escape.txt" is not allowed: expected a relative path without empty, '.' or '..' segments`,
      },
      {
        entries: [containerfile, { header: { name: "ok.txt", type: "file", mode: 0o644, pax: { path: "../../evil.txt" } }, body: "x" }],
        message: `uploaded context entry "../../evil.txt" is not allowed: expected a relative path without empty, '.' or '..' segments`,
      },
      {
        entries: [containerfile, { header: { name: "h", type: "link", linkname: "Containerfile", mode: 0o644 } }],
        message: `uploaded context entry "h" is not allowed: type link is not allowed: expected a file, folder or symlink`,
      },
      {
        entries: [{ header: { name: "/etc/passwd", type: "file", mode: 0o644 }, body: "x" }],
        message: `uploaded context entry "/etc/passwd" is not allowed: expected a relative path without empty, '.' or '..' segments`,
      },
    ];
    for (const c of cases) {
      await assert.rejects(call([header(), chunk(await hostileTar(c.entries))]), refused(Code.InvalidArgument, c.message));
    }
    assert.deepEqual(await spoolsLeft(server.tmp.path), []);
  });

  it("refuses a stream that does not start with its header", async () => {
    await assert.rejects(
      call([chunk(Buffer.alloc(512))]),
      refused(Code.InvalidArgument, "the first message of an upload is not a header: expected a header, then the context's chunks"),
    );
  });
});
