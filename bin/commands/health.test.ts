import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttp2Server } from "node:http2";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { serviceDescriptors, serviceNames } from "../../libs/rpc/service-names.js";
import { cliPath, ensureBuilt } from "../../test/helpers/ensure-built.js";
import { freePort } from "../../test/helpers/free-port.js";
import { childEnv, startServe, tempDir, type ServeProcess } from "../../test/rpc/serve-process.js";
import { healthServiceNames } from "./health-run.js";

const recorder = fileURLToPath(new URL("../../test/helpers/module-recorder.mjs", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI with only PATH, HOME and `env`: no BUILDPLANE_* variable of the caller. */
function health(args: readonly string[], env: NodeJS.ProcessEnv = {}, nodeArgs: readonly string[] = []): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs, cliPath, "health", ...args], { env: { PATH: process.env["PATH"] ?? "", HOME: dir.path, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let dir: { path: string; cleanup(): void };
let allInOne: ServeProcess;
let noDatabase: ServeProcess;
let silent: Server;
const silentSockets = new Set<Socket>();

describe("buildplane health", { timeout: 180_000 }, () => {
  before(async () => {
    ensureBuilt();
    dir = tempDir("bp-health-cli-");
    allInOne = await startServe([], childEnv(join(dir.path, "all"), { BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" }));
    // Metadata alone, its Postgres down (nothing listens on the port): NOT_SERVING until it answers.
    const deadPort = await freePort();
    noDatabase = await startServe(["--services", "metadata"], childEnv(join(dir.path, "nodb"), {
      BUILDPLANE_METADATA_DB_CONNECTION: `postgres://postgres@127.0.0.1:${deadPort}/buildplane`,
    }));
    // A server that accepts connections and never answers a byte.
    silent = createServer((socket) => {
      silentSockets.add(socket);
      socket.on("close", () => silentSockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    for (const proc of [allInOne, noDatabase]) {
      proc?.kill();
      await proc?.exited;
    }
    for (const socket of silentSockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    dir?.cleanup();
  });

  test("prints SERVING and exits 0 for an all-in-one server", async () => {
    const r = await health(["--server", allInOne.url]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, `${allInOne.url}: SERVING\n`);
    assert.equal(r.code, 0);
  });

  test("asks the server named by $BUILDPLANE_SERVER when --server is not given, about one service by its short name", async () => {
    const r = await health(["--service", "resolver"], { BUILDPLANE_SERVER: allInOne.url });
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, `${allInOne.url} buildplane.v1.ResolverService: SERVING\n`);
    assert.equal(r.code, 0);
  });

  test("--server wins over $BUILDPLANE_SERVER", async () => {
    const r = await health(["--server", allInOne.url], { BUILDPLANE_SERVER: "http://127.0.0.1:1" });
    assert.equal(r.stdout, `${allInOne.url}: SERVING\n`);
    assert.equal(r.code, 0);
  });

  test("prints NOT_SERVING and exits 1 while the metadata database is unreachable", async () => {
    for (const args of [[], ["--service", "metadata"]]) {
      const r = await health(["--server", noDatabase.url, ...args]);
      assert.equal(r.stderr, "");
      assert.equal(r.stdout, `${noDatabase.url}${args.length ? " buildplane.v1.MetadataService" : ""}: NOT_SERVING\n`);
      assert.equal(r.code, 1);
    }
  });

  test("exits 1 naming a service the server does not run", async () => {
    const r = await health(["--server", noDatabase.url, "--service", "builder"]);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `buildplane: service "buildplane.v1.BuilderService" is not known to this server\n`);
    assert.equal(r.code, 1);
  });

  test("exits 1 naming the server when nothing listens there", async () => {
    const port = await freePort();
    const r = await health(["--server", `http://127.0.0.1:${port}`]);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `buildplane: cannot reach the buildplane server http://127.0.0.1:${port}: nothing listens on that port (connect ECONNREFUSED 127.0.0.1:${port}); check the URL (--server) and that \`buildplane serve\` runs there\n`);
    assert.equal(r.code, 1);
  });

  test("exits 1 after --timeout when the server accepts the connection and never answers", async () => {
    const address = silent.address();
    assert.ok(address !== null && typeof address === "object");
    const url = `http://127.0.0.1:${address.port}`;
    const r = await health(["--server", url, "--timeout", "2"]);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `buildplane: the buildplane server ${url} did not answer within 2 s\n`);
    assert.equal(r.code, 1);
  });

  test("usage errors exit 2 naming the input and what was expected", async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [["--server", "nope"], {}, `buildplane: --server "nope" is not valid: expected a URL such as http://127.0.0.1:25222\n`],
      [["--server", "ftp://127.0.0.1:25222"], {}, `buildplane: --server "ftp://127.0.0.1:25222" is not valid: expected an http:// or https:// URL such as http://127.0.0.1:25222\n`],
      [[], { BUILDPLANE_SERVER: "not a url" }, `buildplane: $BUILDPLANE_SERVER "not a url" is not valid: expected a URL such as http://127.0.0.1:25222\n`],
      [["--server", allInOne.url, "--service", "resolver;rm"], {}, `buildplane: --service "resolver;rm" is not valid: expected config, metadata, source, resolver, builder, lifecycle or a full gRPC service name such as buildplane.v1.ResolverService\n`],
      [["--server", allInOne.url, "--token-file", join(dir.path, "missing")], {}, `buildplane: --token-file "${join(dir.path, "missing")}" cannot be read (ENOENT): expected a file holding the bearer token\n`],
    ];
    for (const [args, env, stderr] of cases) {
      const r = await health(args, env);
      assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: 2, stdout: "", stderr }, args.join(" "));
    }
    const r = await health(["--timeout", "0"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: option '--timeout <seconds>' argument '0' is invalid\. "0" is not valid: expected a number of seconds above 0, at most 3600$/m);
  });

  test("presents the token of --token-file as a bearer token, and exits 1 with the server's error", async () => {
    const tokenFile = join(dir.path, "token");
    writeFileSync(tokenFile, "health-token\n", { mode: 0o600 });
    // A gRPC endpoint that records the headers and refuses the call.
    const seen: string[] = [];
    const server = createHttp2Server((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? "(none)"}`);
      res.writeHead(200, { "content-type": "application/grpc", "grpc-status": "16", "grpc-message": "no valid token" });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = server.address();
      assert.ok(address !== null && typeof address === "object");
      const url = `http://127.0.0.1:${address.port}`;
      const r = await health(["--server", url, "--token-file", tokenFile]);
      assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: 1, stdout: "", stderr: "buildplane: no valid token\n" });
      const fromEnv = await health(["--server", url], { BUILDPLANE_TOKEN: "env-token" });
      assert.equal(fromEnv.code, 1);
      assert.deepEqual(seen, ["/grpc.health.v1.Health/Check Bearer health-token", "/grpc.health.v1.Health/Check Bearer env-token"]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("loads the RPC client and none of the database, engine, Kubernetes or git libraries", async () => {
    const file = join(dir.path, "modules.txt");
    writeFileSync(file, "");
    const r = await health(["--server", allInOne.url], { MODULE_RECORDER_FILE: file }, ["--import", recorder]);
    assert.equal(r.code, 0, r.stderr);
    const modules = readFileSync(file, "utf8").split("\n");
    const packages = new Set(modules.flatMap((m) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1] ?? []));
    assert.ok(packages.has("@connectrpc/connect-node"), `the recorder sees the packages loaded: ${[...packages].join(", ")}`);
    const heavy = ["kysely", "better-sqlite3", "pg", "dockerode", "@kubernetes/client-node", "simple-git", "@aws-sdk/client-ecr", "ora", "pino", "smol-toml", "zod"];
    assert.deepEqual([...packages].filter((p) => heavy.includes(p)), []);
    const contracts = modules.filter((m) => m.includes("/libs/gen/"));
    assert.deepEqual(contracts.map((m) => m.replace(/^.*\/libs\/gen\//, "")), ["grpc/health/v1/health_pb.js"], "only the health contract loads");
  });

  test("knows every service's gRPC name", () => {
    assert.deepEqual(healthServiceNames, Object.fromEntries(serviceNames.map((name) => [name, serviceDescriptors[name].typeName])));
  });
});
