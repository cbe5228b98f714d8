import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { staticConfigSource } from "../../libs/config/config-source.js";
import { loadConfig } from "../../libs/config/load-config.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { GitSourceSchema } from "../../libs/gen/buildplane/v1/common_pb.js";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { startServer, type RunningServer } from "../../app/start-server.js";
import { git } from "../source/git-fixtures.js";

/**
 * A caller on the network naming the server's own files as a repository,
 * against a real `serve` composition listening on loopback (loopback
 * callers are network callers too): every trick is refused with
 * PermissionDenied naming `[source] local_roots`, before any file is read.
 */
const base = mkdtempSync(join(tmpdir(), "bp-sec-local-"));
const root = join(base, "allowed");
const secret = join(base, "server-secrets");
const SECRET = "server-only-7c1e2b";
for (const d of [join(root, "app"), secret]) mkdirSync(d, { recursive: true });
writeFileSync(join(root, "app/Containerfile"), "FROM scratch\nCOPY hello.txt /\n");
writeFileSync(join(root, "app/hello.txt"), "hello\n");
writeFileSync(join(secret, "Containerfile"), "FROM scratch\n");
writeFileSync(join(secret, "id_ed25519"), `${SECRET}\n`);
symlinkSync(secret, join(root, "escape"));
// A repository inside the root whose .git is a symlink to a repository outside it.
const outsideRepo = join(base, "outside-repo");
mkdirSync(outsideRepo);
git(outsideRepo, "init", "-q", "-b", "main");
writeFileSync(join(outsideRepo, "Containerfile"), `FROM scratch\n# ${SECRET}\n`);
git(outsideRepo, "add", "-A");
git(outsideRepo, "commit", "-q", "-m", "secret");
mkdirSync(join(root, "borrowed"));
const allowedRepo = join(root, "repo");
mkdirSync(allowedRepo);
git(allowedRepo, "init", "-q", "-b", "main");
writeFileSync(join(allowedRepo, "Containerfile"), "FROM scratch\n");
git(allowedRepo, "add", "-A");
git(allowedRepo, "commit", "-q", "-m", "allowed");
symlinkSync(join(outsideRepo, ".git"), join(root, "borrowed/.git"));

let running: RunningServer;
let source: Client<typeof SourceService>;
let resolver: Client<typeof ResolverService>;

before(async () => {
  const config = staticConfigSource(loadConfig({
    env: { BUILDPLANE_SYSTEM_DATA_DIR: join(base, "data"), BUILDPLANE_SOURCE_LOCAL_ROOTS: root },
  }));
  running = await startServer({ config, services: ["config", "metadata", "source", "resolver", "builder"], host: "127.0.0.1", port: 0, log: silentLogger });
  const transport = createGrpcTransport({ baseUrl: running.url });
  source = createClient(SourceService, transport);
  resolver = createClient(ResolverService, transport);
});
after(async () => {
  await running?.close(0);
  rmSync(base, { recursive: true, force: true });
});

const deniedMessage = (shown: string) =>
  `repository "${shown}" is a path on the server outside [source] local_roots ("${root}"): network callers may name only folders under those roots`;

function denied(shown: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, Code.PermissionDenied);
    assert.equal(err.rawMessage, deniedMessage(shown));
    return true;
  };
}

async function streamAll(src: MessageInitShape<typeof GitSourceSchema>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const m of source.streamContext({ source: src })) parts.push(Buffer.from(m.chunk));
  return Buffer.concat(parts);
}

async function ensureAll(src: MessageInitShape<typeof GitSourceSchema>): Promise<void> {
  for await (const _ of resolver.ensureImage({ spec: { source: src } })) {
    // the first event would already be too late
  }
}

describe("server paths named over the network", () => {
  const tricks: Array<[string, () => string, () => string]> = [
    ["a server folder", () => secret, () => secret],
    ["a file:// url", () => `file://${secret}`, () => `file://${secret}`],
    ["a file:// url with a host", () => `file://localhost${secret}`, () => `file://${secret}`],
    ["a .. out of an allowed root", () => `${root}/../server-secrets`, () => secret],
    ["a relative path", () => "../../etc", () => join(process.cwd(), "../../etc")],
    ["a ~ path", () => "~/.ssh", () => join(process.cwd(), "~/.ssh")],
    ["a symlink out of an allowed root", () => join(root, "escape"), () => join(root, "escape")],
    ["a .git symlink out of an allowed root", () => join(root, "borrowed"), () => join(root, "borrowed")],
  ];
  for (const [what, repository, shown] of tricks) {
    it(`StreamContext refuses ${what} with PermissionDenied naming [source] local_roots`, async () => {
      await assert.rejects(streamAll({ repository: repository() }), denied(shown()));
    });
  }

  it("Describe and ResolveRevision refuse a server folder and a file:// url", async () => {
    await assert.rejects(source.describe({ source: { repository: secret } }), denied(secret));
    await assert.rejects(source.describe({ source: { repository: `file://${join(root, "borrowed")}` } }), denied(`file://${join(root, "borrowed")}`));
    await assert.rejects(source.resolveRevision({ source: { repository: `file://${outsideRepo}` } }), denied(`file://${outsideRepo}`));
  });

  it("EnsureImage and ResolveImage refuse a server folder, a file:// url and a symlink escape", async () => {
    await assert.rejects(ensureAll({ repository: secret }), denied(secret));
    await assert.rejects(ensureAll({ repository: `file://${outsideRepo}` }), denied(`file://${outsideRepo}`));
    await assert.rejects(ensureAll({ repository: join(root, "escape") }), denied(join(root, "escape")));
    await assert.rejects(resolver.resolveImage({ spec: { source: { repository: secret } } }), denied(secret));
  });

  const invalid: Array<[string, string]> = [
    ["an ext:: transport", `ext::sh -c cat% ${secret}/id_ed25519`],
    ["an fd:: transport", "fd::0"],
    ["an --upload-pack option", `--upload-pack=cat ${secret}/id_ed25519`],
    ["a file: url without //", `file:${secret}`],
  ];
  for (const [what, repository] of invalid) {
    it(`refuses ${what} with InvalidArgument`, async () => {
      await assert.rejects(streamAll({ repository }), (err: unknown) => {
        assert.ok(err instanceof ConnectError);
        assert.equal(err.code, Code.InvalidArgument);
        assert.equal(err.rawMessage, `repository "${repository}" is not valid: expected an https://, http://, git://, ssh://, file:// URL, user@host:path or a local path`);
        return true;
      });
    });
  }

  it("serves a folder and a git repository under [source] local_roots over the network", async () => {
    const tar = await streamAll({ repository: join(root, "app") });
    assert.ok(tar.includes("hello.txt"));
    assert.equal((await source.describe({ source: { repository: join(root, "app") } })).containerfile, "Containerfile");
    const { commit } = await source.resolveRevision({ source: { repository: `file://${allowedRepo}`, ref: "main" } });
    assert.equal(commit, git(allowedRepo, "rev-parse", "HEAD"));
    const resolved = await resolver.resolveImage({ spec: { source: { repository: join(root, "app") } } });
    assert.match(resolved.treeHash, /^sha256:[0-9a-f]{64}$/);
  });

  it("leaves callers in the same process free to name any folder", async () => {
    const d = await running.clients.source.describe({ source: { repository: secret } });
    assert.equal(d.containerfile, "Containerfile");
  });
});
