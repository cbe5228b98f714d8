import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pack, type Header } from "tar-stream";
import { startServer } from "../../app/start-server.js";
import { staticConfigSource } from "../../libs/config/config-source.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { create } from "@bufbuild/protobuf";
import { BuilderService, type BuildRequest } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { RegistrySchema } from "../../libs/gen/buildplane/v1/common_pb.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { tarHeader } from "../delegate/fixtures/openrun-request.js";

type Headers = Partial<Header> & { name: string };
type Entry = { header: Headers; content?: string };

const token = "hostile-context-token";
const dockerfile = { header: { name: "Dockerfile" }, content: "FROM local/busybox:1\n" };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  for (const e of entries) p.entry(e.header as Header, e.content ?? "");
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** An uncompressed tar of a Dockerfile and `count` empty files, written block by block. */
function manyEntriesTar(count: number): Buffer {
  const blocks = [dockerfileBlocks()];
  for (let i = 0; i < count; i++) blocks.push(tarHeader(`f${i}`, 0));
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A tar whose one file claims `size` bytes: its header is all the guard needs to see. */
function claimedSizeTar(size: number): Buffer {
  return Buffer.concat([dockerfileBlocks(), tarHeader("zeros", size), Buffer.alloc(1024)]);
}

/** The Dockerfile as raw tar blocks (header and padded content). */
function dockerfileBlocks(): Buffer {
  const content = Buffer.from(dockerfile.content);
  return Buffer.concat([tarHeader("Dockerfile", content.length), content, Buffer.alloc(512 - content.length)]);
}

async function* requests(tar: Buffer): AsyncGenerator<BuildRequest> {
  yield {
    $typeName: "buildplane.v1.BuildRequest",
    message: {
      case: "header",
      value: {
        $typeName: "buildplane.v1.BuildHeader",
        buildId: `b_hostile_${Date.now()}`,
        image: { $typeName: "buildplane.v1.ImageRef", key: "k", name: "cli-hostile:0000000000000000", reference: "127.0.0.1:5000/cli-hostile:0000000000000000" },
        containerfile: "Dockerfile",
        args: [],
        target: "",
        platform: "",
        labels: {},
        // The node refuses the context before anything is built or pushed here.
        registry: create(RegistrySchema, { url: "127.0.0.1:5000", insecure: true }),
        contextBytes: 0n,
        // Wide: 200,000 entries take a while to confine on a loaded machine, and the refusal is what is tested.
        timeoutSecs: 600,
      },
    },
  };
  for (let i = 0; i < tar.length; i += 1024 * 1024) {
    yield { $typeName: "buildplane.v1.BuildRequest", message: { case: "chunk", value: tar.subarray(i, i + 1024 * 1024) } };
  }
}

const cases: Array<{ name: string; tar: () => Promise<Buffer>; code: Code; message: string }> = [
  { name: "a name with ..", tar: () => tarOf([dockerfile, { header: { name: "../escape.txt" }, content: "x" }]), code: Code.InvalidArgument, message: 'archive entry "../escape.txt": path escapes the context' },
  { name: "an absolute name", tar: () => tarOf([dockerfile, { header: { name: "/etc/cron.d/x" }, content: "x" }]), code: Code.InvalidArgument, message: 'archive entry "/etc/cron.d/x": path is absolute' },
  {
    name: "a symlink pointing out",
    tar: () => tarOf([dockerfile, { header: { name: "link", type: "symlink", linkname: "../../etc/passwd" } }]),
    code: Code.InvalidArgument,
    message: 'archive entry "link": symlink target "../../etc/passwd" points outside the context',
  },
  {
    name: "a symlink chain (a -> ., a/b -> .., b/escaped.txt, h -> b/escaped.txt)",
    tar: () =>
      tarOf([
        dockerfile,
        { header: { name: "a", type: "symlink", linkname: "." } },
        { header: { name: "a/b", type: "symlink", linkname: ".." } },
        { header: { name: "b/escaped.txt" }, content: "x" },
        { header: { name: "h", type: "link", linkname: "b/escaped.txt" } },
      ]),
    code: Code.InvalidArgument,
    message: 'archive entry "a/b": path goes through the symlink "a"',
  },
  {
    name: "a symlink resolving through another symlink",
    tar: () => tarOf([dockerfile, { header: { name: "a", type: "symlink", linkname: "." } }, { header: { name: "b", type: "symlink", linkname: "a/.." } }]),
    code: Code.InvalidArgument,
    message: 'archive entry "b": symlink target "a/.." climbs with ".." after a name',
  },
  {
    name: "a hard link pointing out",
    tar: () => tarOf([dockerfile, { header: { name: "hard", type: "link", linkname: "../etc/passwd" } }]),
    code: Code.InvalidArgument,
    message: 'archive entry "hard": hard link target "../etc/passwd" escapes the context',
  },
  {
    name: "a device file",
    tar: () => tarOf([dockerfile, { header: { name: "dev", type: "character-device", devmajor: 1, devminor: 3 } }]),
    code: Code.InvalidArgument,
    message: 'archive entry "dev": character devices are refused',
  },
  // The node's default limits: 8 GiB unpacked, 200,000 entries.
  { name: "a file claiming more than the unpacked limit", tar: async () => claimedSizeTar(8 * 1024 ** 3 + 1), code: Code.ResourceExhausted, message: 'archive entry "zeros": the archive holds more than 8589934592 bytes of file contents' },
  { name: "too many entries", tar: async () => manyEntriesTar(200_000), code: Code.ResourceExhausted, message: 'archive entry "f199999": the archive has more than 200000 entries' },
];

describe("a builder node receiving a hostile build context over gRPC", () => {
  for (const c of cases) {
    it(`refuses ${c.name} with ${Code[c.code]} before the engine sees it`, async (t) => {
      const dataDir = await mkdtemp(join(tmpdir(), "bp-hostile-"));
      t.after(() => rm(dataDir, { recursive: true, force: true }));
      const config = staticConfigSource(
        loadConfig({
          env: {
            BUILDPLANE_SYSTEM_DATA_DIR: dataDir,
            BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker",
            BUILDPLANE_SECURITY_ADMIN_OVER_TCP: "true",
            BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: token,
          },
        }),
      );
      const node = await startServer({ config, services: ["builder"], host: "127.0.0.1", port: 0, log: silentLogger });
      t.after(() => node.close(0));
      const client = createClient(
        BuilderService,
        createGrpcTransport({ baseUrl: node.url, interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${token}`), next(req))] }),
      );
      const tar = await c.tar();
      await assert.rejects(
        (async () => {
          for await (const _ of client.build(requests(tar))) void _;
        })(),
        (err: unknown) => {
          assert.ok(err instanceof ConnectError);
          assert.equal(err.code, c.code, err.message);
          assert.ok(err.rawMessage.startsWith(c.message), err.rawMessage);
          return true;
        },
      );
    });
  }
});
