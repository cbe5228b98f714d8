import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ensureBuilt } from "../test/helpers/ensure-built.js";

const root = new URL("..", import.meta.url).pathname;
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

ensureBuilt();

describe("the buildplane command", () => {
  it("runs through npx from the repository root and lists every command in --help", () => {
    const r = run("npx", ["--no-install", "buildplane", "--help"]);
    assert.equal(r.status, 0, r.stderr);
    for (const cmd of ["build", "builds", "serve", "config"]) assert.match(r.stdout, new RegExp(`^  ${cmd} `, "m"));
  });

  it("prints the package version with --version", () => {
    const r = run("node", ["bin/buildplane.js", "--version"]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), version);
  });

  for (const cmd of ["build", "builds", "serve", "config"]) {
    it(`has --help on ${cmd}`, () => {
      const r = run("node", ["bin/buildplane.js", cmd, "--help"]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: buildplane ${cmd}`, "m"));
    });
  }

  it("exits 2 with a usage error on an unknown flag", () => {
    const r = run("node", ["bin/buildplane.js", "build", "--no-such-flag", "x"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /error: unknown option '--no-such-flag'/);
  });

  it("exits 2 when build is given a build arg without a value", () => {
    const r = run("node", ["bin/buildplane.js", "build", ".", "--arg", "NOVALUE"]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), 'buildplane: build arg "NOVALUE" is not valid: expected NAME=VALUE');
  });

  it("exits 2 when the source is neither a URL nor a folder", () => {
    const r = run("node", ["bin/buildplane.js", "build", "no/such/folder"]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), `buildplane: source "no/such/folder" is not a git URL and no folder exists at ${root}no/such/folder`);
  });

  it("exits 2 when a secret build arg's environment variable is missing", () => {
    const r = run("node", ["bin/buildplane.js", "build", ".", "--secret-arg", "BP_TEST_UNSET_SECRET"]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), "buildplane: secret build arg BP_TEST_UNSET_SECRET needs the environment variable BP_TEST_UNSET_SECRET to be set");
  });
});
