import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parse } from "smol-toml";
import { cliPath, ensureBuilt } from "../../test/helpers/ensure-built.js";

ensureBuilt();
const dir = mkdtempSync(join(tmpdir(), "bp-config-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI with a clean environment (HOME in the temp folder, so no user config is found). */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath, ...args], { env: { PATH: process.env["PATH"] ?? "", HOME: dir, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const secretConfig = `[registry]
url = "reg.example.com:5000"
username = "ci"
password = "clear-s3cret"
[metadata]
db_connection = "postgres://app:db-s3cret@db:5432/bp"
`;

describe("buildplane config", () => {
  test("validate prints ok and exits 0 for a valid file", async () => {
    const f = write("ok.toml", '[http]\nhost = "0.0.0.0"\n');
    assert.deepEqual(await run(["config", "validate", f]), { code: 0, stdout: `${f}: ok\n`, stderr: "" });
  });

  test("validate prints each diagnostic and exits 2 for an invalid file", async () => {
    const f = write("bad.toml", '[builder]\nmode = "kanico"\n[htp]\n');
    const r = await run(["config", "validate", f]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `${f}:2:1: builder.mode: "kanico" is not valid: expected auto, command, kaniko or delegate:<url>[,<url>…]\n` +
        `${f}:3:1: htp: unknown section [htp]: did you mean [http]?\n` +
        `buildplane: ${f} is not valid (2 problems)\n`,
    );
  });

  test("validate applies environment overrides and names a bad variable", async () => {
    const f = write("env.toml", "");
    const r = await run(["config", "validate", f], { BUILDPLANE_HTTP_PORT: "eighty" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^env:BUILDPLANE_HTTP_PORT: http\.port: "eighty" is not valid: expected an integer\n/);
  });

  test("validate exits 2 for a file that does not exist", async () => {
    const f = join(dir, "absent.toml");
    const r = await run(["config", "validate", f]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `${f}: cannot read the configuration file (ENOENT)\nbuildplane: ${f} is not valid (1 problem)\n`);
  });

  test("validate without a file is a usage error", async () => {
    const r = await run(["config", "validate"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing required argument 'file'/);
  });

  test("show prints the effective config as toml with secrets redacted", async () => {
    const f = write("secret.toml", secretConfig);
    const r = await run(["config", "show", "--config", f]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /s3cret/);
    const shown = parse(r.stdout) as Record<string, Record<string, unknown>>;
    assert.equal(shown["registry"]?.["password"], "***");
    assert.equal(shown["registry"]?.["username"], "ci");
    assert.equal(shown["metadata"]?.["db_connection"], "postgres://app:***@db:5432/bp");
    assert.equal(shown["http"]?.["port"], 25222);
  });

  test("show --json reads BUILDPLANE_CONFIG when no --config is given", async () => {
    const f = write("env-named.toml", secretConfig);
    const r = await run(["config", "show", "--json"], { BUILDPLANE_CONFIG: f, BUILDPLANE_SYSTEM_MAX_CONCURRENT_BUILDS: "4" });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /s3cret/);
    const shown = JSON.parse(r.stdout) as Record<string, Record<string, unknown>>;
    assert.equal(shown["registry"]?.["password"], "***");
    assert.equal(shown["system"]?.["max_concurrent_builds"], 4);
  });

  test("show exits 2 with the diagnostics when the config is not valid", async () => {
    const f = write("show-bad.toml", "[system]\nmax_concurrent_builds = 0\n");
    const r = await run(["config", "show", "--config", f]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `buildplane: ${f}:2:1: system.max_concurrent_builds: 0 is not valid: expected an integer of at least 1\n`);
  });
});
