import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { holderIdentity, isDeadLocalHolder, parseHolder } from "./holder-identity.js";

const limit = { timeout: 30_000 };
const self = holderIdentity("host-a", 4242, "abcd1234");

describe("build lease holder identity", () => {
  test("writes host/pid/instance and reads it back", limit, () => {
    assert.equal(self.text, "host-a/4242/abcd1234");
    assert.deepEqual(parseHolder(self.text), self);
    assert.equal(holderIdentity("a/b", 1, "i").text, "a_b/1/i");
  });

  test("reads nothing from a holder that is not host/pid/instance", limit, () => {
    for (const text of ["", "r1", "host/pid/x", "host/0/x", "host/12", "h/1/i/j"]) assert.equal(parseHolder(text), undefined, text);
  });

  test("calls a holder dead only on this host, in another process, whose pid no longer runs", limit, () => {
    const dead = () => false;
    const alive = () => true;
    assert.equal(isDeadLocalHolder("host-a/77/ffff", self, dead), true);
    assert.equal(isDeadLocalHolder("host-a/77/ffff", self, alive), false);
    assert.equal(isDeadLocalHolder("host-b/77/ffff", self, dead), false, "another host is not checked");
    assert.equal(isDeadLocalHolder("host-a/4242/other", self, dead), false, "this process's own pid is never dead");
    assert.equal(isDeadLocalHolder("legacy-holder", self, dead), false);
  });
});
