import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import { removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, startCli, type CliEvent } from "../e2e/cli-process.js";
import { tarContext, uniqueSuffix } from "../engine/engine-fixtures.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir } from "../helpers/temp-dir.js";

/** Images another client makes and removes in one round; builds sharing their base are made meanwhile. */
const junkPerRound = 30;
const builds = 3;
const maxRounds = 5;

const retryLine = /^attempt 1 of 3 was aborted \(build of "cli-app-\d-[0-9a-f]+:[0-9a-f]{16}" was aborted: image sha256:[0-9a-f]{64} was removed from the container engine while the build read its cache; the build can run again\): building again$/;

/**
 * Docker's classic builder reads, at each step, every image built on the
 * step's parent to find a cached one; another client removing any of them
 * meanwhile (`docker rmi`, a garbage collection of another app) fails the
 * build with `unable to find image "sha256:…"`, though the build never used
 * that image. The fault is made for real: rounds of images on
 * `local/busybox:1`, removed one by one while `buildplane build`s of apps
 * on the same base run, until a build has met the race (about half of them
 * do on this machine). Every build must end ready, the one that met it
 * after running again.
 */
describe("another client removing images while buildplane builds on Docker", { timeout: 600_000 }, () => {
  it("runs a build again when Docker loses an image another client removed, and every build ends ready", async (t) => {
    const engine = await createEngine({ command: "docker", env: process.env });
    const run = uniqueSuffix();
    const [data, ...repos] = await Promise.all([
      tempDir("buildplane-removal-data-"),
      ...Array.from({ length: builds }, (_, i) => makeGitRepo({ "Containerfile": "FROM local/busybox:1\nCOPY name.txt /name.txt\n", "name.txt": `${run} app ${i} round 1\n` })),
    ]);
    const images = new Set<string>();
    t.after(async () => {
      await removeImages("docker", images);
      await Promise.all([data?.remove(), ...repos.map((r) => (r as TestGitRepo).remove())]);
    });
    const env = cliEnv(data.path, { BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" });

    const retried: string[] = [];
    let round = 0;
    while (retried.length === 0 && round < maxRounds) {
      round++;
      const junk = Array.from({ length: junkPerRound }, (_, i) => `buildplane-junk-${run}:${round}-${i}`);
      await Promise.all(junk.map((tag) => buildJunk(engine, tag)));
      if (round > 1) await Promise.all(repos.map((r, i) => (r as TestGitRepo).commitFiles({ "name.txt": `${run} app ${i} round ${round}\n` })));
      const clis = repos.map((r, i) => startCli(["build", (r as TestGitRepo).url, "--app", `app-${i}-${run}`, "--json"], env));
      await Promise.all(clis.map((c) => c.waitFor((e) => e.type === "started")));
      for (const tag of junk) await engine.removeImage(tag, { force: true });
      for (const result of await Promise.all(clis.map((c) => c.done))) {
        assert.equal(result.code, 0, describeRun(result));
        assert.equal(result.last?.type, "ready", describeRun(result));
        images.add(String(result.last["image"]));
        retried.push(...result.events.filter(isRetryLine).map((e) => String(e["text"])));
      }
    }
    assert.ok(retried.length > 0, `no build met a removed image in ${maxRounds} rounds`);
    t.diagnostic(`${retried.length} of ${round * builds} builds met a removed image, in ${round} rounds`);
    for (const line of retried) assert.match(line, retryLine);
  });
});

function isRetryLine(e: CliEvent): boolean {
  return e.type === "log" && e["stream"] === "system" && String(e["text"]).startsWith("attempt ");
}

/** One image on `local/busybox:1` with a layer of its own, as another client's build would leave. */
async function buildJunk(engine: Engine, tag: string): Promise<void> {
  await engine.build({ context: tarContext({ Containerfile: "FROM local/busybox:1\nCOPY junk /junk\n", junk: tag }), tag, dockerfile: "Containerfile", buildArgs: {}, labels: {} }, () => undefined, AbortSignal.timeout(120_000));
}
