import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { makeGitRepo } from "../helpers/make-git-repo.js";
import { runCommand } from "../helpers/run-command.js";
import { tempDir } from "../helpers/temp-dir.js";
import { removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, runCli } from "../e2e/cli-process.js";
import { startHttpGit } from "../source/git-fixtures.js";

const nonce = Date.now().toString(36);
// Distinct, long values: finding one anywhere can only be a leak.
const TOKEN = `sec-arg-${nonce}-7f3c9a`;
const GIT_PASSWORD = `git-pw-${nonce}-41d2e8`;
const BUILDER_TOKEN = `builder-tok-${nonce}-9b0e17`;
const secrets = [TOKEN, GIT_PASSWORD, BUILDER_TOKEN];

/** Every file below `dir` (symlinks not followed). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    const s = statSync(p, { throwIfNoEntry: false });
    return s === undefined ? [] : s.isDirectory() ? filesUnder(p) : s.isFile() ? [p] : [];
  });
}

describe("a build whose steps print secret values", () => {
  it("streams, stores and replays *** for the git password and the builder token, and leaves no secret (nor a refused secret arg) on disk", async (t) => {
    const repo = await makeGitRepo({
      // The build prints the git password and the server's own token, passed
      // as plain args (as a careless script would).
      "app/Containerfile": [
        "FROM local/busybox:1",
        "ARG GITPW",
        "ARG BTOK",
        `RUN echo "git=$GITPW" && echo "builder=$BTOK" && echo ${nonce} > /n.txt`,
        "",
      ].join("\n"),
    });
    const served = await tempDir("buildplane-sec-served-");
    const data = await tempDir("buildplane-sec-data-");
    const tmp = await tempDir("buildplane-sec-tmp-");
    await runCommand("git", ["clone", "--quiet", "--bare", repo.path, join(served.path, "app.git")]);
    const http = await startHttpGit(served.path, "ci", GIT_PASSWORD);
    const images: string[] = [];
    t.after(async () => {
      await removeImages("docker", images);
      await http.stop();
      for (const d of [repo, served, data, tmp]) await d.remove();
    });
    const url = http.url("app.git").replace("http://", `http://ci:${GIT_PASSWORD}@`);
    // The child's temp files land in a folder of this test, so they can be scanned.
    const env = cliEnv(data.path, { TMPDIR: tmp.path, TOKEN, BUILDPLANE_SYSTEM_BUILDER_AUTH_TOKEN: BUILDER_TOKEN });

    // A secret arg is resolved (hashed with the install key) and then refused by the
    // command mode, which would record its value in the image history.
    const refused = await runCli(["build", url, "--dir", "app", "--secret-arg", "TOKEN", "--json"], env);
    assert.equal(refused.last?.type, "failed", describeRun(refused));
    assert.equal(refused.last?.["code"], "failed_precondition");
    assert.equal(
      refused.last?.["message"],
      "secret build arg TOKEN is not supported by the command mode: docker and podman record build arg values in the image history",
    );

    const run = await runCli(["build", url, "--dir", "app", "--arg", `GITPW=${GIT_PASSWORD}`, "--arg", `BTOK=${BUILDER_TOKEN}`, "--json"], env);
    assert.equal(run.code, 0, describeRun(run));
    images.push(String(run.last?.["image"]));
    const streamed = run.events.filter((e) => e.type === "log").map((e) => String(e["text"]));
    for (const name of ["git", "builder"]) {
      assert.ok(streamed.includes(`${name}=***`), `streamed log shows ${name}=***:\n${streamed.join("\n")}`);
    }
    for (const s of secrets) assert.equal(`${run.stdout}${run.stderr}${refused.stdout}${refused.stderr}`.includes(s), false, `streamed output holds ${s}`);

    const replay = await runCli(["builds", "logs", String(run.last?.["buildId"])], env);
    assert.equal(replay.code, 0, describeRun(replay));
    for (const name of ["git", "builder"]) assert.match(replay.stdout, new RegExp(`^${name}=\\*\\*\\*$`, "m"));
    for (const s of secrets) assert.equal(`${replay.stdout}${replay.stderr}`.includes(s), false, `stored log holds ${s}`);

    // Nothing left behind: no file of the data dir or of the temp folder holds a secret's bytes.
    const files = [...filesUnder(data.path), ...filesUnder(tmp.path)];
    assert.ok(files.some((f) => f.endsWith("buildplane.db")), "the data dir was scanned");
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const s of secrets) assert.equal(bytes.includes(s), false, `${file} holds ${s}`);
    }
  });
});
