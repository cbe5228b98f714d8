import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogScrubber, secretValuesIn } from "./scrub.js";
import { Secret } from "./secret.js";

describe("createLogScrubber", () => {
  it("replaces every occurrence of each known value by ***", () => {
    const { scrub } = createLogScrubber(["tok-123456", new Secret("pa55word")]);
    assert.equal(scrub("token tok-123456 and pa55word, again tok-123456"), "token *** and ***, again ***");
  });

  it("replaces a value's URL-encoded form, as written in a repository URL", () => {
    const { scrub } = createLogScrubber(["p@ss word/1"]);
    assert.equal(scrub("fetching https://ci:p%40ss%20word%2F1@git.example/repo.git"), "fetching https://ci:***@git.example/repo.git");
  });

  it("replaces the longer of two overlapping values whole", () => {
    const { scrub } = createLogScrubber(["abcd", "abcdefgh"]);
    assert.equal(scrub("x abcdefgh y abcd"), "x *** y ***");
  });

  it("scrubs a multi-line value such as a PEM key line by line", () => {
    const { scrub } = createLogScrubber(["-----BEGIN KEY-----\nQUJDREVGR0hJSktMTU5PUA==\n-----END KEY-----\n"]);
    assert.equal(scrub("line QUJDREVGR0hJSktMTU5PUA== seen"), "line *** seen");
  });

  it("treats regular-expression characters in a value literally", () => {
    const { scrub } = createLogScrubber(["a.b*c(d)"]);
    assert.equal(scrub("a.b*c(d) axbbbc(d)"), "*** axbbbc(d)");
  });

  it("leaves text alone when no value is known, and ignores empty and very short values", () => {
    const scrubber = createLogScrubber(["", undefined, "ab", new Secret("")]);
    assert.equal(scrubber.size, 0);
    assert.equal(scrubber.scrub("ab 1 2"), "ab 1 2");
  });
});

describe("secretValuesIn", () => {
  it("finds every Secret in nested objects, arrays and maps, and the password of a secret URL", () => {
    const config = {
      registry: { password: new Secret("reg-pass"), url: "r:5000" },
      gitAuth: { ci: { password: new Secret("git-tok"), privateKey: new Secret("") } },
      list: [new Secret("in-array")],
      map: new Map([["k", new Secret("in-map")]]),
      metadata: { dbConnection: new Secret("postgres://app:p%40w@db/bp") },
    };
    assert.deepEqual(secretValuesIn(config).sort(), ["git-tok", "in-array", "in-map", "p%40w", "p@w", "postgres://app:p%40w@db/bp", "reg-pass"]);
  });
});
