import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DomainError, domainErrorOf } from "./domain-error.js";

describe("domainErrorOf", () => {
  it("returns a domain error as it is", () => {
    const err = new DomainError("notFound", 'ref "v9" does not exist: expected a branch, tag or commit');
    assert.equal(domainErrorOf(err), err);
  });

  it("takes an abort or a timeout of a signal as canceled, with its message", () => {
    const aborted = new AbortController();
    aborted.abort();
    for (const reason of [aborted.signal.reason, new DOMException("The operation timed out.", "TimeoutError")]) {
      const err = domainErrorOf(reason);
      assert.deepEqual([err.code, err.message, err.cause], ["canceled", (reason as Error).message, reason]);
    }
  });

  it("takes any other error as the given code, unknown by default, keeping its message and the error as cause", () => {
    const cause = new TypeError("lines is not iterable");
    assert.deepEqual([domainErrorOf(cause).code, domainErrorOf(cause).message, domainErrorOf(cause).cause], ["unknown", "lines is not iterable", cause]);
    assert.equal(domainErrorOf(cause, "internal").code, "internal");
    assert.deepEqual([domainErrorOf("gone").code, domainErrorOf("gone").message], ["unknown", "gone"]);
  });
});
