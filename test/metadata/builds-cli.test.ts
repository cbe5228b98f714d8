import assert from "node:assert/strict";
import http2 from "node:http2";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Command } from "commander";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { BuildStatus, LogStream } from "../../libs/gen/buildplane/v1/common_pb.js";
import { MetadataService } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { createErrorInterceptor } from "../../libs/rpc/errors.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { createMetadataService } from "../../services/metadata/service.js";
import { registerBuildsCommands } from "../../bin/commands/builds.js";
import { CliExit } from "../../bin/commands/exit.js";
import { startMetadataHarness, type MetadataHarness } from "./metadata-client.js";

async function run(args: string[]): Promise<string> {
  let out = "";
  const program = new Command("buildplane").exitOverride();
  registerBuildsCommands(program, { out: (t) => (out += t) });
  for (const c of program.commands) c.exitOverride().commands.forEach((s) => s.exitOverride());
  await program.parseAsync(args, { from: "user" });
  return out;
}

describe("buildplane builds commands", () => {
  let dir: string;
  let configFile: string;
  let h: MetadataHarness;
  let ids: string[];
  let server: http2.Http2Server;
  let serverUrl: string;
  const sessions = new Set<http2.ServerHttp2Session>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "buildplane-cli-"));
    const db = join(dir, "data", "metadata.db");
    configFile = join(dir, "buildplane.toml");
    writeFileSync(configFile, `[metadata]\ndb_connection = "sqlite:${db}"\n`);
    h = await startMetadataHarness(`sqlite:${db}`);
    ids = [];
    for (const [app, image] of [["web", "cli-web:1"], ["api", "cli-api:1"], ["web", "cli-web:2"]]) {
      ids.push((await h.client.createBuild({ build: { appId: app, image, imageKey: image } })).build?.id ?? "");
    }
    await h.client.updateBuild({ id: ids[2] ?? "", status: BuildStatus.RUNNING });
    await h.client.appendLogs({ buildId: ids[2] ?? "", lines: [{ text: "step 1" }, { text: "step 2", stream: LogStream.STDERR }] });
    server = http2.createServer(
      connectNodeAdapter({ routes: (r) => r.service(MetadataService, createMetadataService(h.deps)), interceptors: [createErrorInterceptor(silentLogger)] }),
    );
    server.on("session", (s) => {
      sessions.add(s);
      s.on("close", () => sessions.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    serverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    await new Promise<void>((r) => {
      server.close(() => r());
      for (const s of sessions) s.close();
    });
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("lists builds as JSON records filtered by app, from the local database", async () => {
    const records = JSON.parse(await run(["builds", "list", "--json", "--app", "web", "--config", configFile])) as Record<string, unknown>[];
    assert.deepEqual(records.map((r) => [r.id, r.image, r.status]), [[ids[2], "cli-web:2", "running"], [ids[0], "cli-web:1", "queued"]]);
    assert.match(String(records[0]?.createdAt), /^\d{4}-\d\d-\d\dT/);
  });

  test("lists builds by status from a server with --server", async () => {
    const records = JSON.parse(await run(["builds", "list", "--json", "--status", "queued", "--server", serverUrl])) as { id: string }[];
    assert.deepEqual(records.map((r) => r.id), [ids[1], ids[0]]);
    const text = await run(["builds", "list", "--server", serverUrl]);
    assert.match(text.split("\n")[0] ?? "", /^ID\s+STATUS\s+CREATED\s+IMAGE$/);
    assert.equal(text.trim().split("\n").length, 4);
  });

  test("shows one build and prints its log", async () => {
    const shown = JSON.parse(await run(["builds", "show", ids[1] ?? "", "--json", "--config", configFile])) as { image: string };
    assert.equal(shown.image, "cli-api:1");
    assert.equal(await run(["builds", "logs", ids[2] ?? "", "--server", serverUrl]), "step 1\nstep 2\n");
  });

  test("follows a log until the build ends", async () => {
    const following = run(["builds", "logs", ids[2] ?? "", "--follow", "--config", configFile]);
    await h.client.appendLogs({ buildId: ids[2] ?? "", lines: [{ text: "step 3" }] });
    await h.client.updateBuild({ id: ids[2] ?? "", status: BuildStatus.SUCCEEDED });
    assert.equal(await following, `step 1\nstep 2\nstep 3\n-- build ${ids[2]} succeeded\n`);
  });

  test("fails naming an unknown build id, locally and through a server", async () => {
    for (const where of [["--config", configFile], ["--server", serverUrl]]) {
      await assert.rejects(run(["builds", "show", "b_unknown", ...where]), (err: unknown) => {
        assert.ok(err instanceof CliExit);
        assert.equal(err.exitCode, 1);
        assert.equal(err.message, "build b_unknown not found");
        return true;
      });
    }
  });
});
