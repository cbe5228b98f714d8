import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { describe, it } from "node:test";
import { staticConfigSource } from "../../libs/config/config-source.js";
import { loadConfig } from "../../libs/config/load-config.js";
import { silentLogger } from "../../libs/rpc/logger.js";
import { startServer } from "../../app/start-server.js";
import { repoRoot } from "../helpers/buildplane-cli.js";
import { tempDir } from "../helpers/temp-dir.js";
import { filesUnder } from "../source/git-fixtures.js";

const privateKey = `-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1ib2R5LWxpbmUtMDEyMzQ1Njc4OWFiY2RlZg==\n-----END OPENSSH PRIVATE KEY-----\n`;
const keyLine = "c2VjcmV0LWtleS1ib2R5LWxpbmUtMDEyMzQ1Njc4OWFiY2RlZg==";

interface Held {
  readonly keyFile: string;
  readonly askpass: string;
  readonly spool: string;
}

/** Starts the fixture process and waits for the line naming its temp files. */
async function startHolder(dataDir: string, tmp: string) {
  const child = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "test/security/fixtures/hold-temp-files.ts"), dataDir], {
    cwd: repoRoot,
    env: { ...process.env, TMPDIR: tmp, TEST_PRIVATE_KEY: privateKey },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const held = await new Promise<Held>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0] ?? "") as Held);
    });
    child.once("exit", (code) => reject(new Error(`the holder exited with ${code} before reporting`)));
  });
  return { child, held };
}

describe("temp files of a process killed with SIGKILL", () => {
  it("keeps the SSH key under the data dir, never under the temp folder, and the next start removes the key folder and the spool", async (t) => {
    const data = await tempDir("buildplane-sec-sweep-data-");
    const tmp = await tempDir("buildplane-sec-sweep-tmp-");
    const savedTmp = process.env["TMPDIR"];
    t.after(async () => {
      if (savedTmp === undefined) delete process.env["TMPDIR"];
      else process.env["TMPDIR"] = savedTmp;
      await data.remove();
      await tmp.remove();
    });
    const { child, held } = await startHolder(data.path, tmp.path);
    t.after(() => child.kill("SIGKILL"));

    assert.ok(held.keyFile.startsWith(join(data.path, "git", "tmp") + "/"), held.keyFile);
    assert.equal(statSync(held.keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(held.keyFile, "..")).mode & 0o777, 0o700);
    assert.ok(readFileSync(held.keyFile, "utf8").includes(keyLine));
    assert.ok(existsSync(held.askpass));
    assert.ok(existsSync(held.spool));
    for (const f of filesUnder(tmp.path)) assert.equal(readFileSync(f, "utf8").includes(keyLine), false, `${f} under the temp folder holds the key`);

    child.kill("SIGKILL");
    await once(child, "exit");
    assert.ok(existsSync(held.keyFile), "a killed process cannot clean up: the key file is left");
    assert.ok(existsSync(held.spool), "and so is the spool");

    // The next start of this install, with the same data dir and temp folder.
    process.env["TMPDIR"] = tmp.path;
    const config = staticConfigSource(loadConfig({ env: { BUILDPLANE_SYSTEM_DATA_DIR: data.path } }));
    const running = await startServer({ config, services: ["config"], host: "127.0.0.1", port: 0, log: silentLogger });
    await running.close(0);

    assert.equal(existsSync(held.keyFile), false, "the key file was swept");
    assert.equal(existsSync(join(held.keyFile, "..")), false);
    assert.equal(existsSync(held.spool), false, "the spool was swept");
    for (const f of [...filesUnder(data.path), ...filesUnder(tmp.path)]) {
      assert.equal(readFileSync(f, "utf8").includes(keyLine), false, `${f} still holds the key`);
    }
  });
});
