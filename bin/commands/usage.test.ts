import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { cliPath, ensureBuilt } from "../../test/helpers/ensure-built.js";

ensureBuilt();
const home = mkdtempSync(join(tmpdir(), "bp-usage-cli-"));
after(() => rmSync(home, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI with a clean environment (HOME in a temp folder, no BUILDPLANE_* variables). */
function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { env: { PATH: process.env["PATH"] ?? "", HOME: home, NO_COLOR: "1" } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const statuses = "queued, running, pushing, succeeded, failed, canceled, abandoned";

/** What each subcommand's help must show: its usage line and the options or arguments it takes. */
const helps: Record<string, { usage: string; mentions: readonly RegExp[] }> = {
  "config validate": { usage: "Usage: buildplane config validate [options] <file>", mentions: [/^ {2}file +TOML configuration file$/m] },
  "config show": { usage: "Usage: buildplane config show [options]", mentions: [/^ {2}--config <file> /m, /^ {2}--json +print JSON instead of TOML$/m] },
  "builds list": { usage: "Usage: buildplane builds list [options]", mentions: [/^ {2}--status <status> +only builds in this status: queued, running, pushing,\n\s+succeeded, failed, canceled, abandoned$/m, /^ {2}--limit <n> +at most this many builds \(default: 50\)$/m, /^ {2}--server <url> /m] },
  "builds show": { usage: "Usage: buildplane builds show [options] <id>", mentions: [/^ {2}id +build id$/m, /^ {2}--json +print a JSON record$/m] },
  "builds logs": { usage: "Usage: buildplane builds logs [options] <id>", mentions: [/^ {2}id +build id$/m, /^ {2}--follow +wait for new lines until the build is final$/m, /^ {2}--from <seq> /m] },
};

describe("buildplane subcommand usage", () => {
  for (const [command, { usage, mentions }] of Object.entries(helps)) {
    test(`${command} --help exits 0 and prints its usage`, async () => {
      const r = await run([...command.split(" "), "--help"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      assert.equal(r.stdout.split("\n")[0], usage);
      for (const m of mentions) assert.match(r.stdout, m);
    });
  }

  test("builds list --status bogus exits 2 naming --status and the allowed statuses", async () => {
    const r = await run(["builds", "list", "--status", "bogus"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.split("\n")[0],
      `error: option '--status <status>' argument 'bogus' is invalid. "bogus" is not a build status: expected ${statuses}`);
    assert.equal(r.stderr.split("\n").slice(1).join("\n"), "usage: buildplane builds list [options]\nsee 'buildplane builds list --help'\n", "the one-line usage follows the error");
  });

  test("builds list --status accepts a status in any case", async () => {
    const r = await run(["builds", "list", "--status", "FAILED", "--help"]);
    assert.equal(r.code, 0, r.stderr);
  });
});
