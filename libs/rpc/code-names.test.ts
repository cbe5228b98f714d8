import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { errorCodeFromName, errorCodeName } from "../errors/domain-error.js";
import { codeFromName, codeName, errorCodeOf } from "./code-names.js";

describe("code names", () => {
  it("names every Connect code in snake case and reads the name back", () => {
    for (const value of Object.values(Code)) {
      if (typeof value !== "number") continue;
      assert.equal(codeFromName(codeName(value)), value);
    }
    assert.equal(codeName(Code.DeadlineExceeded), "deadline_exceeded");
    assert.equal(codeName(Code.FailedPrecondition), "failed_precondition");
  });

  it("turns Connect codes and wire names into the domain's error codes", () => {
    assert.equal(errorCodeOf(Code.ResourceExhausted), "resourceExhausted");
    assert.equal(errorCodeFromName("permission_denied"), "permissionDenied");
    assert.equal(errorCodeFromName("data_loss"), "dataLoss");
  });

  it("names every domain error code as its Connect code is named, and reads the name back", () => {
    for (const value of Object.values(Code)) {
      if (typeof value !== "number") continue;
      const code = errorCodeOf(value);
      assert.equal(errorCodeName(code), codeName(value));
      assert.equal(errorCodeFromName(errorCodeName(code)), code);
    }
  });

  it("reads a name nobody knows as unknown instead of throwing", () => {
    assert.equal(codeFromName("no_such_code"), Code.Unknown);
    assert.equal(codeFromName(""), Code.Unknown);
    assert.equal(errorCodeFromName("Canceled!"), "unknown");
    assert.equal(errorCodeFromName("DEADLINE_EXCEEDED"), "unknown");
    assert.equal(errorCodeFromName(""), "unknown");
  });
});
