import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cliEnv, runCli } from "../helpers/buildplane-cli.js";
import { tempDir } from "../helpers/temp-dir.js";

// Each piece is long enough that finding it in the output can only mean a leak.
const pieces = ["Pw1-lead-part", "Pw2-middle/part", "Pw3-tail:part"];
const password = pieces.join("@");

describe("buildplane config show with a database password containing @", () => {
  it("prints the database url with no part of the password, and the host and database kept", async (t) => {
    const data = await tempDir("buildplane-sec-show-");
    t.after(() => data.remove());
    const env = cliEnv({
      BUILDPLANE_SYSTEM_DATA_DIR: data.path,
      BUILDPLANE_METADATA_DB_CONNECTION: `postgres://app:${password}@db.internal:5432/bp`,
    });
    const run = await runCli(["config", "show"], env);
    assert.equal(run.code, 0, run.stderr);
    for (const piece of pieces) assert.equal(`${run.stdout}${run.stderr}`.includes(piece), false, `"${piece}" is shown:\n${run.stdout}`);
    assert.match(run.stdout, /postgres:\/\/app:\*\*\*@db\.internal:5432\/bp/);
  });
});
