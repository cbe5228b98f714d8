import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidFieldError } from "./errors.js";
import { decodePageToken, encodePageToken, pageSize } from "./page-token.js";

test("round-trips a page token and treats empty as the first page", () => {
  assert.equal(decodePageToken("builds", encodePageToken("builds", "b_123")), "b_123");
  assert.equal(decodePageToken("builds", ""), undefined);
});

test("refuses a token issued by another list", () => {
  const token = encodePageToken("apps", "web");
  assert.throws(() => decodePageToken("builds", token), (err: unknown) => {
    assert.ok(err instanceof InvalidFieldError);
    assert.equal(err.code, "invalidArgument");
    assert.equal(err.message, `page_token "${token}" is not valid: expected a token returned by a previous builds call`);
    return true;
  });
});

test("defaults and caps the page size", () => {
  assert.equal(pageSize(0), 50);
  assert.equal(pageSize(7), 7);
  assert.equal(pageSize(5000), 1000);
});
