import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { computeImageKey, type ImageInputs } from "./image-key.js";
import { appPartFromSource } from "./image-name.js";
import { generateImage } from "./image-ref.js";
import { repositoryWithoutCredentials } from "./repository-without-credentials.js";

describe("repositoryWithoutCredentials", () => {
  const cases: Array<[string, string]> = [
    ["https://ci:tok3n@git.example.com/acme/app.git", "https://git.example.com/acme/app.git"],
    ["https://ghp_tok3n@github.com/acme/app.git", "https://github.com/acme/app.git"],
    ["http://user:p@ss@127.0.0.1:8080/app.git?x=1", "http://127.0.0.1:8080/app.git?x=1"],
    ["HTTPS://ci:tok3n@Git.Example.com/App.git", "HTTPS://Git.Example.com/App.git"],
    ["git://u:tok3n@host/app.git", "git://host/app.git"],
    ["ssh://git:tok3n@host:2222/app.git", "ssh://git@host:2222/app.git"],
    ["ssh://git@host/app.git", "ssh://git@host/app.git"],
    ["https://git.example.com/acme/app.git", "https://git.example.com/acme/app.git"],
    ["https://Git.Example.com", "https://Git.Example.com"],
    ["https://host/path/with@sign.git", "https://host/path/with@sign.git"],
    ["git@github.com:acme/app.git", "git@github.com:acme/app.git"],
    ["/srv/repos/app", "/srv/repos/app"],
    ["file:///srv/repos/app", "file:///srv/repos/app"],
  ];
  for (const [input, expected] of cases) {
    it(`turns ${JSON.stringify(input)} into ${JSON.stringify(expected)}`, () => {
      assert.equal(repositoryWithoutCredentials(input), expected);
    });
  }
});

describe("image names for a repository URL with credentials", () => {
  const plain = "https://git.example.com/acme/app.git";
  const withToken = (token: string): string => plain.replace("https://", `https://ci:${token}@`);
  const inputs = (repository: string): ImageInputs => ({
    appId: "", repository, dir: "web", treeHash: "4b825dc642cb6eb9a060e54bf8d69288fbee4904", containerfile: "Containerfile",
    args: [], target: "", platform: "",
  });

  it("gives the key and name of the URL without them, so rotating a token keeps the image", () => {
    const expected = generateImage(inputs(plain), undefined);
    assert.deepEqual(generateImage(inputs(withToken("old-tok3n")), undefined), expected);
    assert.deepEqual(generateImage(inputs(withToken("new-tok3n")), undefined), expected);
  });

  it("keeps the key and name of a URL that never had credentials", () => {
    // sha256 of "buildplane-image-key-v1\0source\0<url>\0web\0<tree>\0Containerfile\0\0\00\0" and of
    // "<url>\0web\0", checked independently with printf | sha256sum: the shapes names always had.
    assert.equal(computeImageKey(inputs(plain)), "ae9b38c11a1b16e33cb8b36a4be21c4e855e57e039a43c543e76dd9da2e1cfd2");
    assert.equal(appPartFromSource(plain, "web"), "app-web-ee22f16b");
  });
});
