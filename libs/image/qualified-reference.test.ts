import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidReferenceError } from "./errors.js";
import { qualifiedReference } from "./qualified-reference.js";

describe("qualifiedReference", () => {
  const name = "cli-app:0123456789abcdef";
  const table: Array<[{ url: string; project: string } | undefined, string]> = [
    [undefined, name],
    [{ url: "", project: "ignored" }, name],
    [{ url: "registry.example.com:5000", project: "" }, `registry.example.com:5000/${name}`],
    [{ url: "registry.example.com:5000/", project: "/team/" }, `registry.example.com:5000/team/${name}`],
    [{ url: "ghcr.io/org", project: "apps" }, `ghcr.io/org/apps/${name}`],
    [{ url: "localhost", project: "" }, `localhost/${name}`],
  ];
  for (const [registry, expected] of table) {
    it(`gives ${expected} for ${JSON.stringify(registry)}`, () => {
      assert.equal(qualifiedReference(registry, name), expected);
    });
  }

  it("rejects a url with a scheme with invalidArgument naming registry.url", () => {
    assert.throws(() => qualifiedReference({ url: "https://r.io", project: "" }, name), (err: unknown) => {
      assert.ok(err instanceof InvalidReferenceError);
      assert.equal(err.code, "invalidArgument");
      assert.equal(err.message, 'image reference "https://r.io" is not valid: registry.url must be host[:port][/path] without a scheme such as https://');
      return true;
    });
  });

  it("rejects a url whose first part is not a host", () => {
    assert.throws(() => qualifiedReference({ url: "myregistry", project: "" }, name), (err: unknown) => {
      assert.ok(err instanceof InvalidReferenceError);
      assert.equal(err.code, "invalidArgument");
      assert.match(err.message, /registry.url "myregistry" must start with a host that has a "." or ":port", or is localhost$/);
      return true;
    });
  });

  it("rejects a project that breaks the grammar", () => {
    assert.throws(() => qualifiedReference({ url: "r.io", project: "Team A" }, name), (err: unknown) => {
      assert.ok(err instanceof InvalidReferenceError);
      assert.equal(err.code, "invalidArgument");
      assert.match(err.message, /path component "Team A" must be lower-case/);
      return true;
    });
  });
});
