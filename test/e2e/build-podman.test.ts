import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tempDir } from "../helpers/temp-dir.js";
import { imageExists, makeAppRepo, removeImages } from "./app-fixture.js";
import { cliEnv, describeRun, listBuilds, runCli } from "./cli-process.js";

describe("buildplane build on Podman's API service", () => {
  it("builds with container_command = podman, the image lands in Podman, and a second call is cached", async (t) => {
    const repo = await makeAppRepo();
    const data = await tempDir("buildplane-e2e-data-");
    const images: string[] = [];
    t.after(async () => {
      await removeImages("podman", images);
      await repo.remove();
      await data.remove();
    });
    const env = cliEnv(data.path, { BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "podman" });
    const args = ["build", repo.url, "--dir", "app", "--arg", "GREETING=ciao", "--json"];

    const first = await runCli(args, env);
    assert.equal(first.code, 0, describeRun(first));
    assert.equal(first.last?.type, "ready", describeRun(first));
    assert.equal(first.last["cached"], false);
    const image = String(first.last["image"]);
    images.push(image);
    assert.ok(first.events.some((e) => e.type === "log" && /STEP \d+\/\d+: FROM local\/busybox:1/.test(String(e["text"]))), "podman (buildah) ran the build");
    assert.equal(await imageExists("podman", image), true);
    assert.equal(await imageExists("docker", image), false, "docker was not used");

    const second = await runCli(args, env);
    assert.equal(second.code, 0, describeRun(second));
    assert.deepEqual(second.events, [{ type: "ready", image, digest: first.last["digest"], cached: true, buildId: "" }]);
    const records = await listBuilds(env);
    assert.deepEqual(records.map((b) => [b.id, b.status]), [[first.last["buildId"], "succeeded"]]);
  });
});
