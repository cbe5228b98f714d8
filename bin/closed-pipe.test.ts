import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { cliPath, ensureBuilt } from "../test/helpers/ensure-built.js";

ensureBuilt();

/**
 * Runs the CLI with a stdout pipe whose reading end is closed before the
 * CLI writes, as `buildplane --help | head -1` leaves it once head is done.
 */
function runWithClosedStdout(args: readonly string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  child.stdout.destroy();
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe("output cut by a closed pipe", () => {
  for (const args of [["--help"], ["--version"], ["build", "--help"]]) {
    it(`ends \`buildplane ${args.join(" ")}\` quietly with exit code 0`, async () => {
      const r = await runWithClosedStdout(args);
      assert.equal(r.stderr, "");
      assert.equal(r.signal, null);
      assert.equal(r.code, 0);
    });
  }

  it("keeps the exit code of a usage error", async () => {
    const r = await runWithClosedStdout(["build"]);
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /EPIPE|at .*\(/);
    assert.match(r.stderr, /missing required argument 'source'/);
  });
});
