import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Secret } from "../../libs/secret/secret.js";
import { filesUnder } from "../source/git-fixtures.js";
import { makeServedRepo, sourceClient, tempDir } from "../source/source-harness.js";
import { makeSshKey, startSshd } from "../source/ssh-fixture.js";

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/**
 * A forced command for the authorized key: while git's ssh is connected it
 * records every process's argv and environment that names a key file, and
 * every key file holding this test's key under the temp folder and the data
 * dir, then runs git's command. Other tests may run ssh at the same time:
 * only the lines naming this test's data dir (its known_hosts file) count.
 */
function writeSpy(dir: string, dataDir: string, log: string, keyLine: string): string {
  const script = join(dir, "spy.sh");
  writeFileSync(script, `#!/bin/sh
{
  for p in /proc/[0-9]*; do
    tr '\\000' ' ' < "$p/cmdline" 2>/dev/null | grep -a -- " -i " | sed 's/^/argv: /'
    tr '\\000' '\\n' < "$p/environ" 2>/dev/null | grep -a '^GIT_SSH_COMMAND=' | sed 's/^/env: /'
  done
  find '${tmpdir()}' /tmp '${dataDir}' -name id_key -exec grep -l -F -- '${keyLine}' {} + 2>/dev/null | sed 's/^/file: /'
} >> '${log}'
exec sh -c "$SSH_ORIGINAL_COMMAND"
`, { mode: 0o755 });
  return script;
}

describe("an ssh fetch with a configured private key", () => {
  it("writes the key only under the data dir, as git's ssh argv and environment show, and removes it after", async () => {
    const base = tempDir("sec-ssh-base-", cleanups);
    const { bare } = makeServedRepo(base, tempDir("sec-ssh-work-", cleanups));
    const server = tempDir("sec-ssh-server-", cleanups);
    const data = tempDir("sec-ssh-data-", cleanups);
    const key = makeSshKey(server, "deploy_key");
    const log = join(server, "spy.log");
    writeFileSync(log, "");
    const keyBody = key.privateKey.split("\n").filter((l) => l.length >= 20 && !l.startsWith("-----"));
    const sshd = await startSshd(server, [key], writeSpy(server, data, log, keyBody[0] ?? ""));
    cleanups.push(sshd.stop);

    const client = sourceClient(data, {
      gitAuth: { deploy: { userId: "", password: undefined, keyFilePath: "", privateKey: new Secret(key.privateKey), hosts: [new URL(sshd.url(bare)).host], allowPlaintext: false } },
      defaultGitAuth: "deploy",
    });
    assert.match((await client.resolveRevision({ source: { repository: sshd.url(bare), ref: "main" } })).commit, /^[0-9a-f]{40}$/);

    const ours = (l: string): boolean => l.startsWith("file: ") || l.includes(join(data, "git", "known_hosts"));
    const seen = readFileSync(log, "utf8").split("\n").filter((l) => l !== "" && ours(l));
    const keyPaths = seen.flatMap((l) => [...l.matchAll(/-i '?([^' ]+)'?/g)].map((m) => m[1] ?? ""));
    const files = seen.filter((l) => l.startsWith("file: ")).map((l) => l.slice("file: ".length));
    assert.ok(seen.some((l) => l.startsWith("argv: ")) && seen.some((l) => l.startsWith("env: ")), seen.join("\n"));
    assert.ok(keyPaths.length >= 2 && files.length >= 1, seen.join("\n"));
    for (const path of [...keyPaths, ...files]) {
      assert.ok(path.startsWith(join(data, "git", "tmp") + "/"), `key file ${path} is outside the data dir`);
      assert.equal(path.startsWith(tmpdir() + "/") && !path.startsWith(data), false, `key file ${path} is in the temp folder`);
    }
    assert.equal(existsSync(join(data, "git", "tmp")), false, "the key folder is removed after the fetch");
    for (const f of filesUnder(data)) for (const l of keyBody) assert.equal(readFileSync(f, "latin1").includes(l), false, f);
  });
});
