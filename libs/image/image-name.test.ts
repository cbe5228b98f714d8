import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateImage } from "./image-ref.js";
import { appPartFromAppId, appPartFromSource, imageName, sanitizeComponent } from "./image-name.js";
import type { ImageInputs } from "./image-key.js";
import { parseReference } from "./reference.js";

describe("image names", () => {
  it("has OpenRun's shape cli-<app>:<first 16 hex of the key, lower case>", () => {
    assert.equal(imageName("app_prd_2abc", "ABCDEF0123456789ffff"), "cli-app_prd_2abc:abcdef0123456789");
  });

  const sanitized: Array<[string, string]> = [
    ["app_prd_2abc", "app_prd_2abc"],
    ["My App", "my-app"],
    ["a___b", "a-b"],
    ["a__b", "a__b"],
    ["--x--", "x"],
    ["..", "app"],
    ["", "app"],
    ["über/ß", "ber"],
  ];
  for (const [input, expected] of sanitized) {
    it(`sanitizes ${JSON.stringify(input)} to the valid component ${JSON.stringify(expected)}`, () => {
      const out = sanitizeComponent(input);
      assert.equal(out, expected);
      parseReference(`cli-${out}:t`);
    });
  }

  it("keeps a valid app id and adds a short hash to one that had to change", () => {
    assert.equal(appPartFromAppId("app_prd_2abc"), "app_prd_2abc");
    assert.match(appPartFromAppId("My App"), /^my-app-[0-9a-f]{6}$/);
    assert.notEqual(appPartFromAppId("My App"), appPartFromAppId("my app"));
  });

  it("derives a readable, collision-free part from repository and folder", () => {
    assert.match(appPartFromSource("https://github.com/acme/Shop.git", "services/web"), /^shop-services-web-[0-9a-f]{8}$/);
    assert.match(appPartFromSource("git@github.com:acme/shop.git", ""), /^shop-[0-9a-f]{8}$/);
    assert.notEqual(appPartFromSource("https://a.example/x/web", ""), appPartFromSource("https://b.example/y/web", ""));
    const long = appPartFromSource(`/srv/${"x".repeat(300)}`, "d");
    assert.ok(long.length <= 64, long);
  });

  const inputs: ImageInputs = {
    appId: "", repository: "/tmp/repo", dir: "", treeHash: "abc", containerfile: "Containerfile",
    args: [], target: "", platform: "",
  };

  it("gives every generated name a valid reference, qualified or not", () => {
    const local = generateImage(inputs, undefined);
    assert.equal(local.reference, local.name);
    assert.match(local.name, /^cli-repo-[0-9a-f]{8}:[0-9a-f]{16}$/);
    assert.equal(local.name.split(":")[1], local.key.slice(0, 16));
    const remote = generateImage(inputs, { url: "127.0.0.1:5000", project: "team" });
    assert.equal(remote.reference, `127.0.0.1:5000/team/${local.name}`);
  });
});
