import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import { removeImages } from "../e2e/app-fixture.js";
import { cliEnv, describeRun, startCli, type CliEvent } from "../e2e/cli-process.js";
import { tarContext, uniqueSuffix } from "../engine/engine-fixtures.js";
import { makeGitRepo, type TestGitRepo } from "../helpers/make-git-repo.js";
import { tempDir, type TempDir } from "../helpers/temp-dir.js";

/** Images another client makes and removes in one round; builds sharing their base are made meanwhile. */
const junkPerRound = 200;
const builds = 4;
const maxRounds = 5;

const aborted = (image: string): string => `build of "${image}" was aborted: image sha256:[0-9a-f]{64} was removed from the container engine during the build; the build can run again`;
const retryLine = new RegExp(`^attempt [1-4] of 5 was aborted \\(${aborted('cli-app-\\d-[0-9a-f]+:[0-9a-f]{16}')}\\): building again in (250|500|1000|2000) ms$`);

/**
 * Docker's classic builder protects no image it reads during a build from
 * another client's removal (`docker rmi`, `docker image prune`, a garbage
 * collection of another app); buildplane runs such a build again. Each
 * fault is made for real, on a base of the test's own, so the removals race
 * only this file's builds, not other tests' on `local/busybox:1`.
 */
describe("another client removing images while buildplane builds on Docker", { timeout: 600_000 }, () => {
  let engine: Engine;
  let data: TempDir;
  let env: NodeJS.ProcessEnv;
  const run = uniqueSuffix();
  const base = `buildplane-removal-base-${run}:1`;
  const images = new Set<string>([base]);
  const repos: TestGitRepo[] = [];

  before(async () => {
    engine = await createEngine({ command: "docker", env: process.env });
    await engine.build({ context: tarContext({ Containerfile: `FROM local/busybox:1\nENV REMOVAL_RUN=${run}\n` }), tag: base, dockerfile: "Containerfile", buildArgs: {}, labels: {} }, () => undefined, AbortSignal.timeout(120_000));
    data = await tempDir("buildplane-removal-data-");
    env = cliEnv(data.path, { BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" });
  });
  after(async () => {
    await removeImages("docker", images);
    await Promise.all([data?.remove(), ...repos.map((r) => r.remove())]);
  });

  /**
   * At each step the builder lists the images built on the step's parent,
   * then reads each to find a cached one; one removed in between fails the
   * build with `unable to find image "sha256:…"`, though the build never
   * used it. Rounds of images on the base are removed one by one while
   * `buildplane build`s of apps on the same base run, until a build has met
   * the race (most do, in the first round, on this machine).
   */
  it("runs a build again when Docker's cache lookup loses an image another client removed, and every build ends ready", async (t) => {
    const junkLeft = new Set<string>();
    t.after(() => removeImages("docker", junkLeft));
    repos.push(...(await Promise.all(Array.from({ length: builds }, (_, i) => makeGitRepo({ "Containerfile": containerfile(base), "name.txt": `${run} app ${i} round 1\n` })))));
    const apps = repos.slice(-builds);

    const retried: string[] = [];
    let buildsRetried = 0;
    let round = 0;
    while (retried.length === 0 && round < maxRounds) {
      round++;
      const junk = Array.from({ length: junkPerRound }, (_, i) => `buildplane-junk-${run}:${round}-${i}`);
      for (const tag of junk) junkLeft.add(tag);
      for (let i = 0; i < junk.length; i += 40) await Promise.all(junk.slice(i, i + 40).map((tag) => buildJunk(engine, base, tag)));
      if (round > 1) await Promise.all(apps.map((r, i) => r.commitFiles({ "name.txt": `${run} app ${i} round ${round}\n` })));
      const clis = apps.map((r, i) => startCli(["build", r.url, "--app", `app-${i}-${run}`, "--json"], env));
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

  /**
   * `COPY --from=<stage>` reads the stage's image only when it gets there: a
   * stage taken from the cache and removed meanwhile (untagged, as `docker
   * image prune` removes it) fails the build with `invalid from flag value
   * stage: No such image: sha256:…`. Made exactly: the stage is built and
   * tagged first; the build takes it from the cache, its next stage prints
   * `waiting` and sleeps, and the stage's image is removed then.
   */
  it("runs a build again when a cached stage is removed before its COPY --from, and it ends ready", async () => {
    const stage = `buildplane-removal-stage-${run}:1`;
    const file = `FROM ${base} AS stage\nRUN echo ${run} > /out.txt\nFROM ${base}\nRUN echo waiting && sleep 3\nCOPY --from=stage /out.txt /out.txt\n`;
    const repo = await makeGitRepo({ Containerfile: file });
    repos.push(repo);
    images.add(stage);
    const { imageId } = await engine.build({ context: tarContext({ Containerfile: file }), tag: stage, dockerfile: "Containerfile", target: "stage", buildArgs: {}, labels: {} }, () => undefined, AbortSignal.timeout(120_000));
    assert.match(imageId, /^sha256:[0-9a-f]{64}$/);

    const cli = startCli(["build", repo.url, "--app", `stage-${run}`, "--json"], env);
    await cli.waitFor((e) => e.type === "log" && e["text"] === "waiting");
    assert.equal(await engine.removeImage(stage), true);
    const result = await cli.done;
    if (result.last?.type === "ready") images.add(String(result.last["image"]));
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.last?.type, "ready", describeRun(result));
    const image = String(result.last["image"]);
    assert.deepEqual(result.events.filter(isRetryLine).map((e) => e["text"]), [
      `attempt 1 of 5 was aborted (build of "${image}" was aborted: image ${imageId} was removed from the container engine during the build; the build can run again): building again in 250 ms`,
    ]);
    assert.equal((await engine.hasImage(image)).exists, true);
  });
});

/** Three stages on `base`: three cache lookups among its children per build. */
function containerfile(base: string): string {
  return `FROM ${base} AS one\nCOPY name.txt /one\nFROM ${base} AS two\nCOPY name.txt /two\nFROM ${base}\nCOPY --from=one /one /one\nCOPY --from=two /two /two\n`;
}

function isRetryLine(e: CliEvent): boolean {
  return e.type === "log" && e["stream"] === "system" && String(e["text"]).startsWith("attempt ");
}

/** One image built on `base`, as another client's build would leave. */
async function buildJunk(engine: Engine, base: string, tag: string): Promise<void> {
  await engine.build({ context: tarContext({ Containerfile: `FROM ${base}\nENV JUNK=${tag}\n` }), tag, dockerfile: "Containerfile", buildArgs: {}, labels: {} }, () => undefined, AbortSignal.timeout(120_000));
}
