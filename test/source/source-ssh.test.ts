import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { Secret } from "../../libs/secret/secret.js";
import { filesUnder } from "./git-fixtures.js";
import { makeServedRepo, sourceClient, tempDir } from "./source-harness.js";
import { makeSshKey, startSshd, type SshKey } from "./ssh-fixture.js";

const cleanups: (() => unknown)[] = [];
const savedTmp = process.env["TMPDIR"];
after(async () => {
  if (savedTmp === undefined) delete process.env["TMPDIR"];
  else process.env["TMPDIR"] = savedTmp;
  for (const c of cleanups.reverse()) await c();
});


/** The base64 lines of a PEM key: none of them may show up anywhere. */
function keyLines(key: SshKey): string[] {
  return key.privateKey.split("\n").filter((l) => l.length >= 20 && !l.startsWith("-----"));
}

async function collect(client: Client<typeof SourceService>, req: Parameters<Client<typeof SourceService>["streamContext"]>[0]) {
  const chunks: Buffer[] = [];
  for await (const m of client.streamContext(req)) if (m.chunk.length > 0) chunks.push(Buffer.from(m.chunk));
  return { tar: Buffer.concat(chunks) };
}

/**
 * A forced command for the authorized key: while the client is connected it
 * records the mode of every temporary key file and every process's argv,
 * then runs what git asked for.
 */
function writeObserver(dir: string, keyRoot: string, dataRoot: string, log: string): string {
  const script = join(dir, "observe.sh");
  writeFileSync(script, `#!/bin/sh
{
  echo "connection: $SSH_ORIGINAL_COMMAND"
  for f in '${keyRoot}'/*/* '${keyRoot}'/*/*/* '${dataRoot}'/*/git/tmp/*/*; do [ -e "$f" ] && stat -c 'tempfile %a %n' "$f"; done
  for p in /proc/[0-9]*/cmdline; do tr '\\000' ' ' < "$p" 2>/dev/null; echo; done
} >> '${log}'
exec sh -c "$SSH_ORIGINAL_COMMAND"
`, { mode: 0o755 });
  return script;
}

describe("source service: ssh:// with keys", () => {
  let work = "", bare = "", first = "", keyRoot = "", log = "", url = "", urlWithoutUser = "";
  let dataRoot = "";
  let dataDirs = 0;
  /** A fresh data dir; not under os.tmpdir(), which points at keyRoot during these tests. */
  const dataDir = () => join(dataRoot, String(dataDirs++));
  let good: SshKey;
  let wrong: SshKey;
  before(async () => {
    const base = tempDir("ssh-base-", cleanups);
    work = tempDir("ssh-work-", cleanups);
    ({ bare, first } = makeServedRepo(base, work));
    const server = tempDir("ssh-server-", cleanups);
    good = makeSshKey(server, "good_key");
    wrong = makeSshKey(server, "wrong_key");
    dataRoot = tempDir("ssh-data-", cleanups);
    keyRoot = tempDir("ssh-tmp-", cleanups);
    log = join(server, "observed.log");
    const sshd = await startSshd(server, [good], writeObserver(server, keyRoot, dataRoot, log));
    cleanups.push(sshd.stop);
    url = sshd.url(bare);
    urlWithoutUser = url.replace("root@", "");
    // Temporary key files are made under os.tmpdir(): point it at a folder of this test alone.
    process.env["TMPDIR"] = keyRoot;
  });
  beforeEach(() => writeFileSync(log, ""));

  it("resolves and streams with a [git_auth] private_key through a 0600 key file in a private folder under the data dir, removed afterwards", async () => {
    const data = dataDir();
    const client = sourceClient(data, { gitAuth: { deploy: { userId: "", password: undefined, keyFilePath: "", privateKey: new Secret(good.privateKey), hosts: [new URL(url).host], allowPlaintext: false } }, defaultGitAuth: "deploy" });
    assert.equal((await client.resolveRevision({ source: { repository: url, ref: "main" } })).commit, first);
    const ctx = await collect(client, { source: { repository: url, ref: "main", dir: "app" } });
    const local = await collect(sourceClient(dataDir()), { source: { repository: work, dir: "app" }, commit: first });
    assert.ok(ctx.tar.equals(local.tar), "the same tar over ssh as from the local repository");
    assert.ok(ctx.tar.includes("run.sh"));

    const observed = readFileSync(log, "utf8");
    const connections = observed.split("\n").filter((l) => l.startsWith("connection: "));
    // resolve: ls-remote; stream of "main": ls-remote, then the mirror's first fetch.
    assert.deepEqual(connections, Array(3).fill(`connection: git-upload-pack '${bare}'`));
    const tempFiles = observed.split("\n").filter((l) => l.startsWith("tempfile ") && l.endsWith("/id_key"));
    assert.equal(tempFiles.length, 3);
    for (const line of tempFiles) assert.match(line, new RegExp(`^tempfile 600 ${data}/git/tmp/git@[^/]+@${process.pid}@[A-Za-z0-9]{6}/id_key$`));
    assert.ok(observed.includes("IdentitiesOnly=yes"), "the client's argv was captured while connected");
    for (const l of keyLines(good)) assert.equal(observed.includes(l), false, "the private key is in a process's argv");
    assert.deepEqual(readdirSync(keyRoot), []);
    assert.equal(existsSync(join(data, "git", "tmp")), false, "the key folder and its emptied root were removed");
    for (const f of filesUnder(join(data, "git"))) {
      const body = readFileSync(f, "latin1");
      for (const l of keyLines(good)) assert.equal(body.includes(l), false, f);
    }
    assert.match(readFileSync(join(data, "git", "known_hosts"), "utf8"), /127\.0\.0\.1\]:\d+ ssh-ed25519 /);
  });

  it("uses a [git_auth] key_file_path in place, with user_id naming the account when the url names none", async () => {
    const data = dataDir();
    const client = sourceClient(data, { gitAuth: { file: { userId: "root", password: undefined, keyFilePath: good.path, privateKey: undefined, hosts: [new URL(url).host], allowPlaintext: false } } });
    const source = { repository: urlWithoutUser, ref: "main", dir: "app", authName: "file" };
    assert.equal((await client.resolveRevision({ source })).commit, first);
    const d = await client.describe({ source });
    assert.equal(d.commit, first);
    assert.equal(d.containerfile, "Containerfile");
    const ctx = await collect(client, { source });
    assert.ok(ctx.tar.length > 0);
    const observed = readFileSync(log, "utf8");
    // resolve: ls-remote; describe: ls-remote and the fetch; stream: ls-remote (the mirror has the commit).
    assert.equal(observed.split("\n").filter((l) => l.startsWith("connection: ")).length, 4);
    assert.equal(observed.split("\n").some((l) => l.startsWith("tempfile ")), false);
    assert.ok(observed.includes(`-i '${good.path}'`));
    assert.deepEqual(readdirSync(keyRoot), []);
  });

  it("returns Unauthenticated naming the repository, never the key, for a key the server does not accept", async () => {
    const data = dataDir();
    const client = sourceClient(data, { gitAuth: { deploy: { userId: "", password: undefined, keyFilePath: "", privateKey: new Secret(wrong.privateKey), hosts: [new URL(url).host], allowPlaintext: false } } });
    const expected = `authentication failed for repository "${url}": check the git credentials for it`;
    const check = (err: unknown) => {
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Unauthenticated);
      assert.equal(err.rawMessage, expected);
      for (const l of keyLines(wrong)) assert.equal(JSON.stringify(err).includes(l), false);
      return true;
    };
    await assert.rejects(client.resolveRevision({ source: { repository: url, ref: "main", authName: "deploy" } }), check);
    await assert.rejects(client.describe({ source: { repository: url, authName: "deploy" }, commit: first }), check);
    await assert.rejects(client.resolveRevision({ source: { repository: url, ref: "main", credentials: { privateKey: wrong.privateKey } } }), check);
    assert.equal(readFileSync(log, "utf8"), "");
    assert.deepEqual(readdirSync(keyRoot), []);
  });
});
