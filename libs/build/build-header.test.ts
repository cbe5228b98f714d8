import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { BuildSpecSchema, ImageRefSchema } from "../gen/buildplane/v1/common_pb.js";
import { buildHeader, imageLabels, publicRepository } from "./build-header.js";

const image = create(ImageRefSchema, { key: "ab12", name: "cli-app:0123456789abcdef", reference: "reg:5000/cli-app:0123456789abcdef" });

describe("build header", () => {
  it("labels the image with its key, build id, app, revision and the repository without credentials", () => {
    const spec = create(BuildSpecSchema, { appId: "app", source: { repository: "https://user:tok@git.example/r.git", ref: "main" } });
    assert.deepEqual(imageLabels({ buildId: "b_1", spec, image, commit: "0123abc" }), {
      "buildplane.image-key": "ab12",
      "buildplane.build-id": "b_1",
      "buildplane.app": "app",
      "org.opencontainers.image.revision": "0123abc",
      "org.opencontainers.image.source": "https://git.example/r.git",
    });
  });

  it("leaves out the source label for a local folder and the app label without an app", () => {
    const spec = create(BuildSpecSchema, { source: { repository: "/srv/app" } });
    const labels = imageLabels({ buildId: "b_1", spec, image, commit: "" });
    assert.equal("org.opencontainers.image.source" in labels, false);
    assert.equal("buildplane.app" in labels, false);
  });

  it("carries the spec's args, target and platform, the registry and the timeout", () => {
    const spec = create(BuildSpecSchema, { appId: "app", args: [{ name: "A", value: "1" }], target: "prod", platform: "linux/amd64" });
    const header = buildHeader({ buildId: "b_2", spec, image, commit: "c", containerfile: "sub/Containerfile", registry: undefined, timeoutSecs: 60 });
    assert.equal(header.containerfile, "sub/Containerfile");
    assert.deepEqual(header.args.map((a) => [a.name, a.value]), [["A", "1"]]);
    assert.equal(header.target, "prod");
    assert.equal(header.platform, "linux/amd64");
    assert.equal(header.timeoutSecs, 60);
    assert.equal(header.labels["buildplane.build-id"], "b_2");
  });

  it("turns an scp-style git address into its host and path", () => {
    assert.equal(publicRepository("git@github.com:o/r.git"), "github.com:o/r.git");
    assert.equal(publicRepository("file:///srv/r"), "");
  });
});
