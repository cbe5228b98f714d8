import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pack, type Header } from "tar-stream";

type Headers = Partial<Header> & { name: string };
import { startServer } from "../../app/start-server.js";
import { staticConfigSource } from "../../libs/config/config-source.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { BuilderService, type BuildRequest } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { silentLogger } from "../../libs/rpc/logger.js";

const token = "hostile-context-token";

async function tarOf(entries: Array<{ header: Headers; content?: string }>): Promise<Buffer> {
  const p = pack();
  for (const e of entries) p.entry(e.header as Header, e.content ?? "");
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function* requests(tar: Buffer): AsyncGenerator<BuildRequest> {
  yield {
    $typeName: "buildplane.v1.BuildRequest",
    message: {
      case: "header",
      value: {
        $typeName: "buildplane.v1.BuildHeader",
        buildId: `b_hostile_${Date.now()}`,
        image: { $typeName: "buildplane.v1.ImageRef", key: "k", name: "cli-hostile:0000000000000000", reference: "cli-hostile:0000000000000000" },
        containerfile: "Dockerfile",
        args: [],
        target: "",
        platform: "",
        labels: {},
        contextBytes: 0n,
        timeoutSecs: 60,
      },
    },
  };
  yield { $typeName: "buildplane.v1.BuildRequest", message: { case: "chunk", value: tar } };
}

const dockerfile = { header: { name: "Dockerfile" }, content: "FROM local/busybox:1\n" };
const cases: Array<{ name: string; entry: { header: Headers; content?: string }; message: string }> = [
  { name: "a name with ..", entry: { header: { name: "../escape.txt" }, content: "x" }, message: 'archive entry "../escape.txt" is not allowed' },
  { name: "an absolute name", entry: { header: { name: "/etc/cron.d/x" }, content: "x" }, message: 'archive entry "/etc/cron.d/x" is not allowed' },
  { name: "a symlink pointing out", entry: { header: { name: "link", type: "symlink", linkname: "../../etc/passwd" } }, message: 'archive entry "link" is not allowed: symlink to "../../etc/passwd" points outside the context' },
  { name: "a device file", entry: { header: { name: "dev", type: "character-device", devmajor: 1, devminor: 3 } }, message: 'archive entry "dev" is not allowed: character-device entries (devices, fifos) are refused' },
];

describe("a builder node receiving a hostile build context over gRPC", () => {
  for (const c of cases) {
    it(`refuses ${c.name} with InvalidArgument before the engine sees it`, async (t) => {
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
      const tar = await tarOf([dockerfile, c.entry]);
      await assert.rejects(
        (async () => {
          for await (const _ of client.build(requests(tar))) void _;
        })(),
        (err: unknown) => {
          assert.ok(err instanceof ConnectError);
          assert.equal(err.code, Code.InvalidArgument, err.message);
          assert.ok(err.rawMessage.startsWith(c.message), err.rawMessage);
          return true;
        },
      );
    });
  }
});
