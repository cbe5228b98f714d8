import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseServiceList, UnknownServiceError } from "./service-selection.js";

describe("service selection", () => {
  it("selects every service when none is named", () => {
    assert.deepEqual(parseServiceList(undefined), ["config", "metadata", "source", "resolver", "builder", "lifecycle"]);
    assert.deepEqual(parseServiceList(" "), ["config", "metadata", "source", "resolver", "builder", "lifecycle"]);
  });

  it("keeps the named services in order without duplicates", () => {
    assert.deepEqual(parseServiceList("source, config,source"), ["source", "config"]);
  });

  it("rejects an unknown name listing the valid ones", () => {
    assert.throws(() => parseServiceList("config,bilder"), (err: unknown) => {
      assert.ok(err instanceof UnknownServiceError);
      assert.equal(err.code, "invalidArgument");
      assert.equal(err.message, '--services "bilder" is not a service: expected config, metadata, source, resolver, builder or lifecycle');
      return true;
    });
  });
});
