import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { appPartFromSource } from "../../libs/image/image-name.js";
import { makeGitRepo } from "../helpers/make-git-repo.js";
import { runCommand } from "../helpers/run-command.js";
import { tempDir } from "../helpers/temp-dir.js";
import { startMetadataHarness } from "../metadata/metadata-client.js";
import { startHttpGit } from "../source/git-fixtures.js";
import { removeImages } from "./app-fixture.js";
import { cliEnv, describeRun, listBuilds, runCli } from "./cli-process.js";

const USER = "ci";
const PASSWORD = "tok-3e91b7-secret";

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe("buildplane build from a repository URL with credentials in it", () => {
  it("builds over authenticated http but records, lists, labels and names the image without the credentials", async (t) => {
    const repo = await makeGitRepo({
      "app/Containerfile": "FROM local/busybox:1\nCOPY name.txt /name.txt\n",
      "app/name.txt": `credentials ${Date.now()}\n`,
    });
    const served = await tempDir("buildplane-e2e-served-");
    const data = await tempDir("buildplane-e2e-data-");
    await runCommand("git", ["clone", "--quiet", "--bare", repo.path, join(served.path, "app.git")]);
    const http = await startHttpGit(served.path, USER, PASSWORD);
    const images: string[] = [];
    t.after(async () => {
      await removeImages("docker", images);
      await http.stop();
      await repo.remove();
      await served.remove();
      await data.remove();
    });
    const plain = http.url("app.git");
    const withPassword = plain.replace("http://", `http://${USER}:${PASSWORD}@`);
    const env = cliEnv(data.path, { BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" });

    const run = await runCli(["build", withPassword, "--dir", "app", "--json"], env);
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.last?.type, "ready", describeRun(run));
    const image = String(run.last["image"]);
    images.push(image);
    assert.equal(image.split(":")[0], `cli-${appPartFromSource(plain, "app")}`, "the name comes from the URL without credentials");
    assert.ok(http.requests.length > 0, "the source was fetched over the authenticated server");
    assert.equal(`${run.stdout}${run.stderr}`.includes(PASSWORD), false, "no output line holds the password");

    const listed = await runCli(["builds", "list", "--json"], env);
    assert.equal(listed.code, 0, describeRun(listed));
    assert.equal(listed.stdout.includes(PASSWORD), false, listed.stdout);
    assert.equal(listed.stdout.includes(`${USER}:`), false, listed.stdout);
    const records = await listBuilds(env);
    assert.deepEqual(records.map((r) => r.id), [run.last["buildId"]]);

    const metadata = await startMetadataHarness(`sqlite:${join(data.path, "buildplane.db")}`);
    try {
      const { builds } = await metadata.client.listBuilds({ pageSize: 10 });
      assert.deepEqual(builds.map((b) => b.source?.repository), [plain]);
    } finally {
      await metadata.close();
    }
    const db = new Database(join(data.path, "buildplane.db"), { readonly: true });
    try {
      const rows = db.prepare("select source_repository from builds").all() as Array<{ source_repository: string }>;
      assert.deepEqual(rows, [{ source_repository: plain }]);
    } finally {
      db.close();
    }
    for (const file of filesUnder(data.path)) assert.equal(readFileSync(file).includes(PASSWORD), false, file);

    const inspected = await runCommand("docker", ["image", "inspect", "--format", "{{json .Config.Labels}}", image]);
    assert.equal(inspected.stdout.includes(PASSWORD), false, inspected.stdout);
  });
});
