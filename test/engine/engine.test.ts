import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createEngine, type Engine } from "../../libs/engine/engine.js";
import type { DomainError } from "../../libs/errors/domain-error.js";
import { containersFrom, eventually, processRunning, tarContext, tarEntryNames, uniqueSuffix } from "./engine-fixtures.js";

const CONTAINERFILE = `FROM BASE AS deps
ARG GREETING
COPY app.txt /app/app.txt
RUN echo "greeting=$GREETING" && cat /app/app.txt > /app/copied.txt

FROM deps AS app
RUN cat /app/copied.txt

FROM app AS broken
RUN exit 9
`;

function lines() {
  const seen: { stream: string; text: string }[] = [];
  return { seen, onLine: (stream: string, text: string) => seen.push({ stream, text }) };
}

for (const kind of ["docker", "podman"] as const) {
  describe(`the engine library on ${kind}`, () => {
    let engine: Engine;
    const suffix = uniqueSuffix();
    const base = `buildplane-engine-test/base-${kind}:${suffix}`;
    const tags: string[] = [];
    const tagFor = (name: string) => {
      const tag = `buildplane-engine-test/${name}-${kind}:${suffix}`;
      tags.push(tag);
      return tag;
    };
    const containerfile = CONTAINERFILE.replace("BASE", base);

    before(async () => {
      engine = await createEngine({ command: kind });
      // A base of our own, so container lists can be filtered to this run's builds.
      await engine.tag("local/busybox:1", base);
    });
    after(async () => {
      for (const tag of [...tags, base]) await engine.removeImage(tag, { force: true });
    });

    it("reports which engine answers", async () => {
      await engine.ping();
      const info = await engine.info();
      assert.equal(info.name, kind);
      assert.notEqual(info.version, "");
    });

    it("builds the target stage with COPY, RUN and a build arg, reporting the steps' output", async () => {
      const tag = tagFor("app");
      const { seen, onLine } = lines();
      const result = await engine.build(
        {
          context: tarContext({ "Containerfile": containerfile, "app.txt": "hello from the context\n" }),
          tag, dockerfile: "Containerfile", buildArgs: { GREETING: "bonjour", UNUSED_TOKEN: "tok-never-printed" }, target: "app",
          labels: { "io.buildplane.test": "yes" },
        },
        onLine,
        AbortSignal.timeout(120_000),
      );
      assert.match(result.imageId, /^sha256:[0-9a-f]{64}$/);
      const texts = seen.map((l) => l.text);
      assert.ok(texts.includes("greeting=bonjour"), texts.join("\n"));
      assert.ok(texts.includes("hello from the context"), texts.join("\n"));
      assert.ok(!texts.some((t) => t.includes("exit 9")), "the stage after the target must not run");
      assert.ok(!texts.some((t) => t.includes("tok-never-printed")), "a build arg value must not reach the log");
      const presence = await engine.hasImage(tag);
      assert.equal(presence.exists, true);
      assert.equal(presence.id, result.imageId);
    });

    it("fails a RUN step with the engine's message and exit code, leaving no build container", async () => {
      const tag = tagFor("broken");
      const { seen, onLine } = lines();
      const build = engine.build(
        { context: tarContext({ "Containerfile": containerfile, "app.txt": "x" }), tag, dockerfile: "Containerfile", buildArgs: {} },
        onLine, AbortSignal.timeout(120_000),
      );
      await assert.rejects(build, (err: DomainError & { exitCode?: number }) => {
        assert.equal(err.code, "failedPrecondition");
        assert.equal(err.name, "ImageBuildError");
        assert.match(err.message, new RegExp(`^build of "${tag}" failed \\(exit code 9\\): .*(non-zero code: 9|exit status 9)`));
        assert.equal(err.exitCode, 9);
        return true;
      });
      assert.ok(seen.some((l) => l.text.includes("exit 9")));
      // Podman removes the failed step's container just after it reports the error.
      assert.equal(await eventually(async () => (await containersFrom(kind, base)).length === 0, 5000), true, "no build container may remain");
      assert.equal((await engine.hasImage(tag)).exists, false);
    });

    it("fails with failedPrecondition when the Containerfile is not in the context", async () => {
      const tag = tagFor("missing");
      const build = engine.build(
        { context: tarContext({ "app.txt": "x" }), tag, dockerfile: "Nope.containerfile", buildArgs: {} },
        () => {}, AbortSignal.timeout(60_000),
      );
      await assert.rejects(build, (err: DomainError) => {
        assert.equal(err.code, "failedPrecondition");
        assert.match(err.message, new RegExp(`^build of "${tag}" failed: .*Nope\\.containerfile`));
        return true;
      });
    });

    it("streams a RUN step's output while it runs, and a build cancelled then stops with no container or process left", { timeout: 30_000 }, async () => {
      const tag = tagFor("cancel");
      const marker = `60.${Date.now() % 1000}${Math.floor(Math.random() * 1000)}`;
      const controller = new AbortController();
      const build = engine.build(
        {
          context: tarContext({ "Containerfile": `FROM ${base}\nRUN echo sleeping && sleep ${marker}\n` }),
          tag, dockerfile: "Containerfile", buildArgs: {},
        },
        (_stream, text) => { if (text === "sleeping") controller.abort(); },
        controller.signal,
      );
      await assert.rejects(build, (err: DomainError) => {
        assert.equal(err.code, "canceled");
        assert.equal(err.message, `build of "${tag}" was canceled`);
        return true;
      });
      assert.equal(await eventually(async () => !(await processRunning(`sleep ${marker}`)), 5000), true, "the RUN process must stop");
      assert.equal(await eventually(async () => (await containersFrom(kind, base)).length === 0, 5000), true, "no build container may remain");
      assert.equal((await engine.hasImage(tag)).exists, false);
    });

    it("answers hasImage for present and absent images", async () => {
      const present = await engine.hasImage(base);
      assert.equal(present.exists, true);
      assert.match(present.id, /^sha256:/);
      assert.deepEqual(await engine.hasImage(`buildplane-engine-test/absent:${suffix}`), { exists: false, id: "" });
    });

    it("exports an image as a docker save tarball with manifest.json", async () => {
      const names = await tarEntryNames(await engine.exportImage(base, AbortSignal.timeout(60_000)));
      assert.ok(names.includes("manifest.json"), names.join(", "));
    });

    it("rejects exporting an unknown image with notFound naming it", async () => {
      const ref = `buildplane-engine-test/absent:${suffix}`;
      await assert.rejects(engine.exportImage(ref, AbortSignal.timeout(10_000)), (err: DomainError) => {
        assert.equal(err.code, "notFound");
        assert.equal(err.message, `image "${ref}" does not exist in the local container engine`);
        return true;
      });
    });

    it("tags and removes images, reporting a removal of an unknown image as false", async () => {
      const extra = tagFor("extra");
      await engine.tag(base, extra);
      assert.equal((await engine.hasImage(extra)).id, (await engine.hasImage(base)).id);
      assert.equal(await engine.removeImage(extra), true);
      assert.equal((await engine.hasImage(extra)).exists, false);
      assert.equal(await engine.removeImage(extra), false);
    });
  });
}

describe("the engine library without an engine", () => {
  it("reports unavailable naming the socket when nothing listens there", async () => {
    const engine = await createEngine({ command: "docker", socketPath: "/nonexistent/buildplane.sock" });
    await assert.rejects(engine.ping(), (err: DomainError) => {
      assert.equal(err.code, "unavailable");
      assert.equal(
        err.message,
        "container engine at unix:///nonexistent/buildplane.sock is not reachable (ENOENT): expected a running docker daemon or podman api service",
      );
      return true;
    });
  });
});
