import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCommand } from "../helpers/run-command.js";
import { tempDir } from "../helpers/temp-dir.js";
import { makeAppRepo, removeImages, runImage } from "./app-fixture.js";
import { cliEnv, describeRun, listBuilds, runCli } from "./cli-process.js";

describe("buildplane build on the local Docker engine", () => {
  it("builds an app in a subfolder once, serves it from cache after, and names images by the folder's content only", async (t) => {
    const repo = await makeAppRepo();
    const data = await tempDir("buildplane-e2e-data-");
    const images: string[] = [];
    t.after(async () => {
      await removeImages("docker", images);
      await repo.remove();
      await data.remove();
    });
    const env = cliEnv(data.path, { BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" });
    const build = (buildEnv = env) => runCli(["build", repo.url, "--dir", "app", "--arg", "GREETING=bonjour", "--json"], buildEnv);

    const first = await build();
    assert.equal(first.code, 0, describeRun(first));
    const last = first.last;
    assert.equal(last?.type, "ready", describeRun(first));
    assert.equal(last["cached"], false);
    assert.match(String(last["buildId"]), /^b_[0-9a-z]+$/);
    assert.match(String(last["digest"]), /^sha256:[0-9a-f]{64}$/);
    const image = String(last["image"]);
    images.push(image);
    assert.match(image, /^cli-[a-z0-9-]+:[0-9a-f]{16}$/);
    const logIndex = first.events.findIndex((e) => e.type === "log");
    assert.ok(logIndex >= 0 && logIndex < first.events.length - 1, "log events come before the last line");
    assert.ok(first.events.every((e) => e.type !== "log" || e["buildId"] === last["buildId"]));

    const inspected = await runCommand("docker", ["image", "inspect", "--format", "{{json .Config.Labels}}", image]);
    const labels = JSON.parse(inspected.stdout) as Record<string, string>;
    assert.equal(labels["buildplane.build-id"], last["buildId"]);
    assert.match(labels["buildplane.image-key"] ?? "", new RegExp(`^${image.split(":")[1] ?? "-"}[0-9a-f]{48}$`));
    assert.equal(labels["org.opencontainers.image.revision"], repo.commit);
    const labelSteps = first.events.filter((e) => e.type === "log" && /^Step \d+\/\d+ : LABEL /.test(String(e["text"])));
    assert.equal(labelSteps.length, 1, "the labels are set in one step");

    const output = await runImage(image);
    assert.match(output, /^bonjour from widget$/m);
    assert.match(output, /files: .*name\.txt/);
    assert.doesNotMatch(output, /notes\.log/, "the .dockerignore'd file is not in the context");

    const second = await build();
    assert.equal(second.code, 0, describeRun(second));
    assert.deepEqual(second.events, [{ type: "ready", image, digest: last["digest"], cached: true, buildId: "" }]);
    const records = await listBuilds(env);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.id, last["buildId"]);
    assert.equal(records[0]?.status, "succeeded");
    assert.equal(records[0]?.image, image);

    // A second data dir on the same engine: the image is found there, and no metadata database is opened for it.
    const other = await tempDir("buildplane-e2e-data-");
    t.after(() => other.remove());
    const found = await build(cliEnv(other.path, { BUILDPLANE_SYSTEM_CONTAINER_COMMAND: "docker" }));
    assert.equal(found.code, 0, describeRun(found));
    assert.deepEqual(found.events, [{ type: "ready", image, digest: last["digest"], cached: true, buildId: "" }]);
    assert.equal(existsSync(join(other.path, "buildplane.db")), false, "an image that exists is answered without opening the metadata database");

    await repo.commitFiles({ "README.md": "changed outside the app folder\n" });
    const outside = await build();
    assert.equal(outside.code, 0, describeRun(outside));
    assert.equal(outside.last?.["image"], image);
    assert.equal(outside.last?.["cached"], true);

    await repo.commitFiles({ "app/name.txt": "gadget\n" });
    const changed = await build();
    assert.equal(changed.code, 0, describeRun(changed));
    assert.equal(changed.last?.type, "ready");
    assert.equal(changed.last["cached"], false);
    const next = String(changed.last["image"]);
    images.push(next);
    assert.notEqual(next, image);
    assert.equal(next.split(":")[0], image.split(":")[0], "the same app keeps its repository name");
    assert.match(await runImage(next), /^bonjour from gadget$/m);

    const after = await listBuilds(env);
    assert.deepEqual(after.map((b) => b.status), ["succeeded", "succeeded"]);
    assert.equal(after[0]?.image, next);
  });
});
