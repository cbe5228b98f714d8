import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tempDir } from "../helpers/temp-dir.js";
import { makeAppRepo, removeImages, runImage } from "./app-fixture.js";
import { cliEnv, describeRun, runCli } from "./cli-process.js";

/** Two stages that print which stage and which version of the source they hold. */
const stagedContainerfile = `FROM local/busybox:1 AS check
COPY version.txt /version.txt
CMD ["sh", "-c", "echo check stage $(cat /version.txt)"]
FROM local/busybox:1
COPY version.txt /version.txt
CMD ["sh", "-c", "echo final stage $(cat /version.txt)"]
`;

describe("buildplane build --ref, --file, --target, plain output", () => {
  it("builds the named containerfile's target stage at an older ref, and prints only the image on stdout when not --json", async (t) => {
    const repo = await makeAppRepo({ "app/build/App.containerfile": stagedContainerfile, "app/version.txt": "v1\n" });
    await repo.git("tag", "release-1");
    await repo.commitFiles({ "app/version.txt": "v2\n" });
    const data = await tempDir("buildplane-e2e-data-");
    const images: string[] = [];
    t.after(async () => {
      await removeImages("docker", images);
      await repo.remove();
      await data.remove();
    });
    const env = cliEnv(data.path);
    const common = ["build", repo.url, "--dir", "app", "--file", "build/App.containerfile"];

    const old = await runCli([...common, "--ref", "release-1", "--target", "check"], env);
    assert.equal(old.code, 0, describeRun(old));
    assert.equal(old.events.length, 0, "no JSON without --json");
    const image = old.stdout.trim();
    images.push(image);
    assert.equal(old.stdout, `${image}\n`, "stdout holds the image reference alone");
    assert.match(image, /^cli-[a-z0-9-]+:[0-9a-f]{16}$/);
    assert.match(old.stderr, /check stage|Step \d+\/\d+|STEP \d+\/\d+/, "log lines go to stderr");
    assert.equal((await runImage(image)).trim(), "check stage v1", "the target stage of the named file at the tag");

    const head = await runCli([...common, "--json"], env);
    assert.equal(head.code, 0, describeRun(head));
    const headImage = String(head.last?.["image"]);
    images.push(headImage);
    assert.notEqual(headImage, image, "another ref and target give another image");
    assert.equal((await runImage(headImage)).trim(), "final stage v2", "no target: the last stage, at the branch head");

    const missing = await runCli([...common, "--ref", "no-such-ref", "--json"], env);
    assert.equal(missing.code, 1, describeRun(missing));
    assert.equal(missing.last?.type, "failed");
    assert.equal(missing.last?.["code"], "not_found");
    assert.match(String(missing.last?.["message"]), /no-such-ref/);
    assert.ok(String(missing.last?.["message"]).includes(repo.url) || String(missing.last?.["message"]).includes(repo.path), String(missing.last?.["message"]));
  });
});
