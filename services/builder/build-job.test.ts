import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import { Secret } from "../../libs/secret/secret.js";
import { buildHeaderFromJob, buildJobFromHeader, InvalidBuildHeaderError } from "./build-job.js";
import type { BuildJob } from "./image-builder.js";

const limit = { timeout: 60_000 };

const registry: RegistryTarget = {
  url: "registry.example:5000",
  project: "team",
  type: "",
  insecure: false,
  username: "robot",
  password: new Secret("hunter2"),
  caPem: "",
  clientCertPem: "",
  clientKeyPem: undefined,
  awsRegion: "",
};

const job: Omit<BuildJob, "context"> = {
  buildId: "b_1",
  name: "cli-app:0123456789abcdef",
  reference: "registry.example:5000/team/cli-app:0123456789abcdef",
  imageKey: "0123456789abcdef",
  appId: "app",
  containerfile: "sub/Containerfile",
  args: [
    { name: "A", value: "plain" },
    { name: "TOKEN", value: new Secret("s3cret") },
  ],
  target: "final",
  platform: "linux/amd64",
  labels: { "buildplane.app": "app", "org.opencontainers.image.revision": "abc" },
  registry,
  contextBytes: 1234,
  timeoutSecs: 90,
};

describe("build job wire form", () => {
  it("a job forwarded to a node reads back as the same job, secrets still wrapped", limit, () => {
    const header = buildHeaderFromJob(job, registry);
    assert.equal(header.args.find((a) => a.name === "TOKEN")?.secret, true);
    const back = buildJobFromHeader(header, Readable.from([]), { timeoutSecs: 1 });
    const { context: _context, ...rest } = back;
    assert.deepEqual(
      JSON.parse(JSON.stringify(rest)),
      JSON.parse(JSON.stringify(job)),
      "every field survives the round trip (secrets print as *** on both sides)",
    );
    const token = back.args.find((a) => a.name === "TOKEN")?.value;
    assert.ok(token instanceof Secret);
    assert.equal(token.unwrap(), "s3cret");
    assert.equal(back.registry?.password?.unwrap(), "hunter2");
  });

  it("refuses a header without an image name, naming the field", limit, () => {
    const header = buildHeaderFromJob({ ...job, name: "" }, registry);
    assert.throws(() => buildJobFromHeader(header, Readable.from([]), { timeoutSecs: 1 }), (err: unknown) => {
      assert.ok(err instanceof InvalidBuildHeaderError);
      assert.equal(err.code, "invalidArgument");
      assert.match(err.message, /^build header has no image name: expected image\.name/);
      return true;
    });
  });
});
