import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cliEnv, runCli } from "../helpers/buildplane-cli.js";
import { childEnv, startServe, tempDir, type ServeProcess } from "../rpc/serve-process.js";

const readToken = "read-token-cli-6a0f";

let server: ServeProcess;
let dir: { path: string; cleanup(): void };

before(async () => {
  dir = tempDir("bp-cli-token-");
  server = await startServe(["--services", "metadata"], childEnv(dir.path, { BUILDPLANE_SECURITY_READ_TOKEN: readToken }));
});

after(() => {
  server.kill();
  dir.cleanup();
});

/** The CLI's environment: its own empty data folder, plus `extra`. */
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => cliEnv({ BUILDPLANE_SYSTEM_DATA_DIR: join(dir.path, "cli"), ...extra });

describe("--server commands carry the caller's credential", { timeout: 60_000 }, () => {
  it("builds list presents $BUILDPLANE_TOKEN", async () => {
    const run = await runCli(["builds", "list", "--json", "--server", server.url], env({ BUILDPLANE_TOKEN: readToken }));
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    assert.deepEqual(JSON.parse(run.stdout), []);
  });

  it("builds list presents the token of --token-file", async () => {
    const file = join(dir.path, "token");
    writeFileSync(file, `${readToken}\n`, { mode: 0o600 });
    const run = await runCli(["builds", "list", "--json", "--server", server.url, "--token-file", file], env());
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
  });

  it("builds list without a token fails with the server's unauthenticated message", async () => {
    const run = await runCli(["builds", "list", "--server", server.url], env());
    assert.equal(run.code, 1);
    assert.equal(run.stderr, "buildplane: missing bearer token\n");
  });

  it("builds show with a wrong token fails without printing it", async () => {
    const run = await runCli(["builds", "show", "b-1", "--server", server.url], env({ BUILDPLANE_TOKEN: "wrong-token-value" }));
    assert.equal(run.code, 1);
    assert.equal(run.stderr, "buildplane: invalid bearer token\n");
  });

  it("build --server with a read token is refused the build scope", async () => {
    const run = await runCli(["build", "https://example.invalid/repo.git", "--json", "--server", server.url], env({ BUILDPLANE_TOKEN: readToken }));
    assert.equal(run.code, 1);
    const last = run.events.at(-1);
    assert.equal(last?.["code"], "permission_denied");
    assert.equal(last?.["message"], "ResolverService.EnsureImage needs scope build, which the [security] read_token token does not carry");
  });

  it("an unreadable --token-file is a usage error naming the file", async () => {
    const missing = join(dir.path, "no-such-token");
    const run = await runCli(["builds", "list", "--server", server.url, "--token-file", missing], env());
    assert.equal(run.code, 2);
    assert.equal(run.stderr, `buildplane: --token-file "${missing}" cannot be read (ENOENT): expected a file holding the bearer token\n`);
  });

  it("a server that cannot be reached is named in the failure", async () => {
    const run = await runCli(["builds", "list", "--server", "http://127.0.0.1:1"], env({ BUILDPLANE_TOKEN: readToken }));
    assert.equal(run.code, 1);
    assert.equal(run.stderr, "buildplane: cannot reach the buildplane server http://127.0.0.1:1: nothing listens on that port (connect ECONNREFUSED 127.0.0.1:1); check the URL (--server) and that `buildplane serve` runs there\n");
  });

  it("never takes a token value in argv", async () => {
    const run = await runCli(["builds", "list", "--server", server.url, "--token", readToken], env());
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown option '--token'/);
  });
});
