import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { constants, createServer, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cliEnv, describeRun, runCli, startCli, type CliProcess } from "../test/e2e/cli-process.js";
import { freePort } from "../test/helpers/free-port.js";
import { runCommand } from "../test/helpers/run-command.js";
import { tempDir, type TempDir } from "../test/helpers/temp-dir.js";

const timeout = 120_000;
let work: TempDir;
let env: NodeJS.ProcessEnv;

before(async () => {
  work = await tempDir("bp-cli-conventions-");
  env = cliEnv(join(work.path, "data"), { NO_COLOR: "1" });
});
after(() => work.remove());

/**
 * An HTTP/2 server that accepts every call and never answers: a build or a
 * log follow through it waits until the CLI gives up, so a signal arrives
 * mid-call. It records each call's headers and how its stream ended.
 */
async function startSilentServer(): Promise<{ url: string; calls: { path: string; headers: IncomingHttpHeaders; closed: Promise<number> }[]; called: () => Promise<void>; close(): Promise<void> }> {
  const calls: { path: string; headers: IncomingHttpHeaders; closed: Promise<number> }[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer();
  server.on("stream", (stream: ServerHttp2Stream, headers) => {
    stream.on("error", () => undefined);
    calls.push({ path: String(headers[":path"]), headers, closed: new Promise((res) => stream.on("close", () => res(stream.rstCode))) });
    for (const w of waiters.splice(0)) w();
  });
  const sessions = new Set<import("node:http2").ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return {
    url: `http://127.0.0.1:${address.port}`,
    calls,
    called: () => (calls.length > 0 ? Promise.resolve() : new Promise((res) => waiters.push(res))),
    close: () =>
      new Promise((res) => {
        for (const s of sessions) s.destroy();
        server.close(() => res());
      }),
  };
}

describe("usage errors", () => {
  test("an unknown flag prints the error, the command's one-line usage and where the help is, and exits 2", { timeout }, async () => {
    const r = await runCli(["build", "--no-such-flag", "x"], env);
    assert.equal(r.code, 2, describeRun(r));
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "error: unknown option '--no-such-flag'\nusage: buildplane build [options] <source>\nsee 'buildplane build --help'\n");
  });

  test("a bad value of a subcommand's option names the subcommand's usage, not the whole help", { timeout }, async () => {
    const r = await runCli(["builds", "list", "--limit", "0"], env);
    assert.equal(r.code, 2, describeRun(r));
    assert.equal(r.stderr, `error: option '--limit <n>' argument '0' is invalid. "0" is not valid: expected a whole number from 1\nusage: buildplane builds list [options]\nsee 'buildplane builds list --help'\n`);
  });

  test("--progress takes only auto, tty, plain or quiet", { timeout }, async () => {
    const r = await runCli(["build", ".", "--progress", "fancy"], env);
    assert.equal(r.code, 2, describeRun(r));
    assert.equal(r.stderr.split("\n")[0], "error: option '--progress <mode>' argument 'fancy' is invalid. Allowed choices are auto, tty, plain, quiet.");
  });

  test("--quiet and --json cannot be combined", { timeout }, async () => {
    const r = await runCli(["build", ".", "-q", "--json"], env);
    assert.equal(r.code, 2, describeRun(r));
    assert.equal(r.stderr.split("\n")[0], "error: option '-q, --quiet' cannot be used with option '--json'");
  });

  test("every command's help shows examples", { timeout }, async () => {
    for (const args of [["--help"], ["build", "--help"], ["builds", "--help"], ["serve", "--help"], ["config", "--help"]]) {
      const r = await runCli(args, env);
      assert.equal(r.code, 0, describeRun(r));
      assert.match(r.stdout, /\nExamples:\n {2}\$ buildplane /, args.join(" "));
    }
  });
});

describe("the server from the environment and failures to reach it", () => {
  test("a refused connection names the server, says nothing listens and what to try", { timeout }, async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await runCli(["builds", "list", "--server", url], env);
    assert.equal(r.code, 1, describeRun(r));
    const port = new URL(url).port;
    assert.equal(r.stderr, `buildplane: cannot reach the buildplane server ${url}: nothing listens on that port (connect ECONNREFUSED 127.0.0.1:${port}); check the URL (--server) and that \`buildplane serve\` runs there\n`);
  });

  test("BUILDPLANE_SERVER is used when --server is not given, and named in the failure", { timeout }, async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await runCli(["build", "https://example.invalid/app.git", "--json"], { ...env, BUILDPLANE_SERVER: url });
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(r.last?.type, "failed");
    assert.equal(r.last["code"], "unavailable");
    assert.match(String(r.last["message"]), new RegExp(`^cannot reach the buildplane server ${url}: nothing listens on that port .*check the URL \\(\\$BUILDPLANE_SERVER\\)`));
  });

  test("a BUILDPLANE_SERVER that is not a URL is a usage error naming the variable", { timeout }, async () => {
    const r = await runCli(["builds", "list"], { ...env, BUILDPLANE_SERVER: "buildplane.example.com" });
    assert.equal(r.code, 2, describeRun(r));
    assert.equal(r.stderr, 'buildplane: $BUILDPLANE_SERVER "buildplane.example.com" is not valid: expected an http:// or https:// URL such as http://127.0.0.1:25222\n');
  });

  test("BUILDPLANE_SERVER and BUILDPLANE_TOKEN reach the server; --server wins over the variable", { timeout }, async () => {
    const server = await startSilentServer();
    const token = randomBytes(16).toString("hex");
    const refused = `http://127.0.0.1:${await freePort()}`;
    try {
      const viaEnv = startCli(["builds", "logs", "b1", "--follow"], { ...env, BUILDPLANE_SERVER: server.url, BUILDPLANE_TOKEN: token });
      await server.called();
      assert.equal(server.calls[0]?.path, "/buildplane.v1.MetadataService/StreamLogs");
      assert.equal(server.calls[0]?.headers["authorization"], `Bearer ${token}`);
      viaEnv.child.kill("SIGTERM");
      assert.equal((await viaEnv.done).code, 143);

      const r = await runCli(["builds", "list", "--server", refused], { ...env, BUILDPLANE_SERVER: server.url });
      assert.equal(r.code, 1, describeRun(r));
      assert.match(r.stderr, new RegExp(`cannot reach the buildplane server ${refused}: .*\\(--server\\)`));
      assert.equal(server.calls.length, 1, "the variable's server was not called");
    } finally {
      await server.close();
    }
  });
});

describe("signals", () => {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    test(`${signal} cancels the call of a build on the server and exits ${code}`, { timeout }, async () => {
      const server = await startSilentServer();
      let cli: CliProcess | undefined;
      try {
        cli = startCli(["build", "https://example.invalid/app.git", "--json", "--server", server.url], env);
        await server.called();
        assert.equal(server.calls[0]?.path, "/buildplane.v1.ResolverService/EnsureImage");
        cli.child.kill(signal);
        const r = await cli.done;
        assert.equal(r.code, code, describeRun(r));
        assert.equal(r.last?.type, "failed", describeRun(r));
        assert.equal(r.last["code"], "canceled");
        assert.equal(await server.calls[0]?.closed, constants.NGHTTP2_CANCEL, "the call was cancelled on the wire");
      } finally {
        cli?.child.kill("SIGKILL");
        await server.close();
      }
    });
  }

  test("SIGINT ends builds logs --follow with 130", { timeout }, async () => {
    const server = await startSilentServer();
    try {
      const cli = startCli(["builds", "logs", "b1", "--follow", "--server", server.url], env);
      await server.called();
      cli.child.kill("SIGINT");
      const r = await cli.done;
      assert.equal(r.code, 130, describeRun(r));
      assert.equal(r.stderr, "");
    } finally {
      await server.close();
    }
  });
});

describe("build output on the local engine", () => {
  let folder: string;
  let image = "";
  before(() => {
    folder = join(work.path, "app");
    mkdirSync(folder);
    writeFileSync(join(folder, "Containerfile"), "FROM local/busybox:1\nCOPY nonce.txt /nonce.txt\n");
    writeFileSync(join(folder, "nonce.txt"), `${randomBytes(8).toString("hex")}\n`);
  });
  after(async () => {
    if (image) await runCommand("docker", ["rmi", "--force", image]).catch(() => undefined);
  });

  test("--metadata-file holds the ready event as JSON, written whole, and --progress quiet prints only the image", { timeout }, async () => {
    const meta = join(work.path, "meta.json");
    const r = await runCli(["build", folder, "--progress", "quiet", "--metadata-file", meta], env);
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(r.stderr, "");
    const ready = JSON.parse(readFileSync(meta, "utf8")) as { type: string; image: string; digest: string; cached: boolean; buildId: string };
    image = ready.image;
    assert.equal(r.stdout, `${ready.image}\n`);
    assert.equal(ready.type, "ready");
    assert.equal(ready.cached, false);
    assert.match(ready.buildId, /\S/);
    assert.match(ready.image, /:[0-9a-f]{16}$/);
    assert.deepEqual(readdirSync(work.path).filter((n) => n.includes("meta.json")), ["meta.json"], "no temp file is left beside it");

    const again = await runCli(["build", folder, "-q", "--metadata-file", meta], env);
    assert.equal(again.code, 0, describeRun(again));
    assert.equal(again.stdout, `${image}\n`);
    assert.equal((JSON.parse(readFileSync(meta, "utf8")) as { cached: boolean }).cached, true, "the file is replaced by the second build's event");
  });

  test("--progress plain writes status lines on stderr without terminal escapes", { timeout }, async () => {
    const plain = await runCli(["build", folder, "--progress", "plain", "--force"], env);
    assert.equal(plain.code, 0, describeRun(plain));
    assert.match(plain.stderr, /^building \S+ /m);
    assert.doesNotMatch(plain.stderr, /\u001b\[/, "no terminal escapes");
    assert.equal(plain.stdout, `${image}\n`);
  });

  test("--progress tty is a usage error when stderr is not a terminal, before anything runs", { timeout }, async () => {
    const r = await runCli(["build", folder, "--progress", "tty"], env);
    assert.equal(r.code, 2, describeRun(r));
    assert.equal(r.stderr, "buildplane: --progress tty needs stderr to be a terminal: expected auto, plain or quiet when it is redirected\n");
    assert.equal(r.stdout, "");
  });

  test("a --metadata-file in a folder that does not exist is a usage error before anything is built", { timeout }, async () => {
    const missing = join(work.path, "no-such-folder", "meta.json");
    const r = await runCli(["build", folder, "--metadata-file", missing], env);
    assert.equal(r.code, 2, describeRun(r));
    assert.equal(r.stderr, `buildplane: --metadata-file "${missing}" is not valid: its folder ${join(work.path, "no-such-folder")} does not exist\n`);
    assert.equal(r.stdout, "");
  });
});
