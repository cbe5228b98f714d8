import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Command } from "commander";
import { registerAppsCommands } from "../../bin/commands/apps.js";
import { CliExit } from "../../bin/commands/exit.js";

async function run(args: string[]): Promise<string> {
  let out = "";
  const program = new Command("buildplane").exitOverride();
  registerAppsCommands(program, { out: (t) => (out += t) });
  for (const c of program.commands) c.exitOverride().commands.forEach((s) => s.exitOverride());
  await program.parseAsync(args, { from: "user" });
  return out;
}

/** `buildplane apps` on the local metadata database (SQLite), through the same MetadataService handlers a server runs. */
describe("buildplane apps commands", { timeout: 60_000 }, () => {
  let dir: string;
  let config: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "buildplane-apps-"));
    config = join(dir, "buildplane.toml");
    writeFileSync(config, `[metadata]\ndb_connection = "sqlite:${join(dir, "metadata.db")}"\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("adds an app with its build spec, lists it, shows it and removes it", async () => {
    const added = await run(["apps", "add", "web", "--config", config, "--repo", "https://user:pw@git.example/org/app.git", "--ref", "release/*", "--dir", "web", "--file", "Dockerfile.prod", "--arg", "VERSION=1.2", "--target", "prod"]);
    assert.equal(added, "app web registered: https://git.example/org/app.git (web) at release/*\n");
    await run(["apps", "add", "docs", "--config", config, "--repo", "https://git.example/org/docs.git", "--ref", "main", "--poll", "300"]);
    const table = await run(["apps", "list", "--config", config]);
    assert.equal(table, [
      "ID    REF        POLL  SOURCE",
      "docs  main       300s  https://git.example/org/docs.git",
      "web   release/*  -     https://git.example/org/app.git (web)",
      "",
    ].join("\n"));
    const shown = JSON.parse(await run(["apps", "show", "web", "--json", "--config", config])) as Record<string, unknown>;
    assert.deepEqual({ ...shown, createdAt: typeof shown["createdAt"], updatedAt: typeof shown["updatedAt"] }, {
      id: "web", name: "web", repository: "https://git.example/org/app.git", ref: "release/*", dir: "web", containerfile: "Dockerfile.prod",
      args: [{ name: "VERSION", value: "1.2" }], target: "prod", pollIntervalSecs: 0, createdAt: "string", updatedAt: "string",
    });
    assert.equal(await run(["apps", "remove", "web", "--config", config]), "app web removed (its builds and images stay)\n");
    await assert.rejects(run(["apps", "show", "web", "--config", config]), (err: unknown) => {
      assert.ok(err instanceof CliExit);
      assert.equal(err.exitCode, 1);
      assert.equal(err.message, "app web not found");
      return true;
    });
  });

  test("refuses a polled pattern, a too-short poll interval and an arg without a value", async () => {
    const refused = async (args: string[], code: number, message: string): Promise<void> =>
      assert.rejects(run(["apps", "add", "x", "--config", config, "--repo", "https://git.example/x.git", ...args]), (err: unknown) => {
        assert.ok(err instanceof CliExit, String(err));
        assert.equal(err.exitCode, code);
        assert.equal(err.message, message);
        return true;
      });
    await refused(["--ref", "v*", "--poll", "60"], 2, `app.source.ref "v*" is not valid: expected a branch, tag or commit when poll_interval_secs is set (a pattern is for webhooks only)`);
    await refused(["--ref", "main", "--poll", "5"], 2, `app.poll_interval_secs "5" is not valid: expected 0 (never) or 10 to 86400 seconds`);
    await refused(["--arg", "NOVALUE"], 2, `build arg "NOVALUE" is not valid: expected NAME=VALUE with NAME of letters, digits and _`);
  });
});
