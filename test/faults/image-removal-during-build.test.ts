import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import { removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, startCli, type CliEvent } from "../e2e/cli-process.js";
import { tarContext, uniqueSuffix } from "../engine/engine-fixtures.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir } from "../helpers/temp-dir.js";

/** Images another client makes and removes in one round; builds sharing their base are made meanwhile. */
const junkPerRound = 200;
const builds = 4;
const maxRounds = 5;

const retryLine = /^attempt [1-4] of 5 was aborted \(build of "cli-app-\d-[0-9a-f]+:[0-9a-f]{16}" was aborted: image sha256:[0-9a-f]{64} was removed from the container engine while the build read its cache; the build can run again\): building again in (250|500|1000|2000) ms$/;

/**
 * Docker's classic builder reads, at each step, every image built on the
 * step's parent to find a cached one; another client removing any of them
 * meanwhile (`docker rmi`, a garbage collection of another app) fails the
 * build with `unable to find image "sha256:…"`, though the build never used
 * that image. The fault is made for real: rounds of images on a base of
 * the test's own, removed one by one while `buildplane build`s of apps on
 * the same base run, until a build has met the race (about half of them
 * do on this machine). Every build must end ready, the one that met it
 * after running again.
 */
describe("another client removing images while buildplane builds on Docker", { timeout: 600_000 }, () => {
  it("runs a build again when Docker loses an image another client removed, and every build ends ready", async (t) => {
    const engine = await createEngine({ command: "docker", env: process.env });
    const run = uniqueSuffix();
    // A base of this test's own, so its removals race only its own builds, not other tests' on local/busybox:1.
    const base = `buildplane-removal-base-${run}:1`;
    const images = new Set<string>([base]);
    const junkLeft = new Set<string>();
    await engine.build({ context: tarContext({ Containerfile: `FROM local/busybox:1\nENV REMOVAL_RUN=${run}\n` }), tag: base, dockerfile: "Containerfile", buildArgs: {}, labels: {} }, () => undefined, AbortSignal.timeout(120_000));
    const [data, ...repos] = await Promise.all([
      tempDir("buildplane-removal-data-"),
      ...Array.from({ length: builds }, (_, i) => makeGitRepo({ "Containerfile": containerfile(base), "name.txt": `${run} app ${i} round 1\n` })),
    ]);
    t.after(async () => {
      await removeImages("docker", [...junkLeft, ...images]);
      await Promise.all([data?.remove(), ...repos.map((r) => (r as TestGitRepo).remove())]);
    });
    const env = cliEnv(data.path, { BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" });

    const retried: string[] = [];
    let buildsRetried = 0;
    let round = 0;
    while (retried.length === 0 && round < maxRounds) {
      round++;
      const junk = Array.from({ length: junkPerRound }, (_, i) => `buildplane-junk-${run}:${round}-${i}`);
      for (const tag of junk) junkLeft.add(tag);
      for (let i = 0; i < junk.length; i += 40) await Promise.all(junk.slice(i, i + 40).map((tag) => buildJunk(engine, base, tag)));
      if (round > 1) await Promise.all(repos.map((r, i) => (r as TestGitRepo).commitFiles({ "name.txt": `${run} app ${i} round ${round}\n` })));
      const clis = repos.map((r, i) => startCli(["build", (r as TestGitRepo).url, "--app", `app-${i}-${run}`, "--json"], env));
      // One removal after another from the first build's first step, lasting past the builds' cache lookups.
      await Promise.race(clis.map((c) => c.waitFor((e) => e.type === "log" && String(e["text"]).startsWith("Step 1/"))));
      for (const tag of junk) {
        await engine.removeImage(tag, { force: true });
        junkLeft.delete(tag);
      }
      const results = await Promise.all(clis.map((c) => c.done));
      for (const result of results) if (result.last?.type === "ready") images.add(String(result.last["image"]));
      for (const result of results) {
        assert.equal(result.code, 0, describeRun(result));
        assert.equal(result.last?.type, "ready", describeRun(result));
        const lines = result.events.filter(isRetryLine).map((e) => String(e["text"]));
        retried.push(...lines);
        if (lines.length > 0) buildsRetried++;
      }
    }
    assert.ok(retried.length > 0, `no build met a removed image in ${maxRounds} rounds`);
    t.diagnostic(`${buildsRetried} of ${round * builds} builds met a removed image (${retried.length} passes aborted), in ${round} rounds`);
    for (const line of retried) assert.match(line, retryLine);
  });
});

/** Three stages on `base`: three cache lookups among its children per build. */
function containerfile(base: string): string {
  return `FROM ${base} AS one\nCOPY name.txt /one\nFROM ${base} AS two\nCOPY name.txt /two\nFROM ${base}\nCOPY --from=one /one /one\nCOPY --from=two /two /two\n`;
}

function isRetryLine(e: CliEvent): boolean {
  return e.type === "log" && e["stream"] === "system" && String(e["text"]).startsWith("attempt ");
}

/** One image on `base` with a layer of its own, as another client's build would leave. */
async function buildJunk(engine: Engine, base: string, tag: string): Promise<void> {
  await engine.build({ context: tarContext({ Containerfile: `FROM ${base}\nENV JUNK=${tag}\n` }), tag, dockerfile: "Containerfile", buildArgs: {}, labels: {} }, () => undefined, AbortSignal.timeout(120_000));
}
