import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createDockerignoreMatcher, parseDockerignore } from "./dockerignore.js";

describe("parseDockerignore", () => {
  it("drops comments and blanks, trims, cleans and keeps exceptions in file order", () => {
    const text = "# comment\n\n  *.log  \n/build/\n./tmp//x\n! keep.log\n";
    assert.deepEqual(parseDockerignore(text), ["*.log", "build", "tmp/x", "!keep.log"]);
  });
});

describe("createDockerignoreMatcher", () => {
  const cases: [string, string[], string, boolean][] = [
    ["anchors patterns at the root unlike gitignore", ["*.log"], "a/b.log", false],
    ["matches at the root", ["*.log"], "b.log", true],
    ["matches any depth with **", ["**/*.log"], "a/b/c.log", true],
    ["excludes a folder's content", ["node_modules"], "node_modules/x/y.js", true],
    ["lets the last matching rule win", ["*.md", "!README.md"], "README.md", false],
    ["re-includes a file inside an excluded folder", ["docs", "!docs/keep.md"], "docs/keep.md", false],
    ["still excludes siblings of a re-included file", ["docs", "!docs/keep.md"], "docs/other.md", true],
    ["excludes everything with *", ["*"], "a/b", true],
    ["re-excludes after an exception", ["*", "!src", "src/*.tmp"], "src/x.tmp", true],
    ["matches single characters with ?", ["file?.txt"], "file1.txt", true],
  ];
  for (const [name, rules, path, expected] of cases) {
    it(`${name}: ${JSON.stringify(rules)} on ${path} → ${expected}`, () => {
      assert.equal(createDockerignoreMatcher(rules).ignores(path), expected);
    });
  }
});
