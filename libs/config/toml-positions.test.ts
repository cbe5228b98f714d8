import assert from "node:assert/strict";
import { test } from "node:test";
import { suggest } from "./suggest.js";
import { locateKeys } from "./toml-positions.js";

test("keys are located under headers, as dotted keys and as quoted keys", () => {
  const text = [
    "# comment",
    'builder.mode = "auto"',
    "[http]",
    "  port = 1",
    '[git_auth."corp x"]',
    '"user_id" = "me"',
    "[registry]",
    'url = """',
    'password = "not a key"',
    '"""',
    'password = "x"',
  ].join("\n");
  const at = locateKeys(text);
  assert.deepEqual(at.get("builder.mode"), { line: 2, column: 1 });
  assert.deepEqual(at.get("http"), { line: 3, column: 1 });
  assert.deepEqual(at.get("http.port"), { line: 4, column: 3 });
  assert.deepEqual(at.get("git_auth.corp x.user_id"), { line: 6, column: 1 });
  assert.deepEqual(at.get("registry.password"), { line: 11, column: 1 });
});

test("suggestions are given for near misses only", () => {
  assert.equal(suggest("buidler", ["builder", "registry"]), "builder");
  assert.equal(suggest("max_concurent_builds", ["max_concurrent_builds", "max_build_wait_secs"]), "max_concurrent_builds");
  assert.equal(suggest("zzz", ["builder", "registry"]), undefined);
});

test("the tables of an array of tables are numbered in order", () => {
  const at = locateKeys('[[kubernetes.tolerations]]\nkey = "a"\n\n[[kubernetes.tolerations]]\n  effect = "NoExecute"\n');
  assert.deepEqual(at.get("kubernetes.tolerations"), { line: 1, column: 1 });
  assert.deepEqual(at.get("kubernetes.tolerations.0.key"), { line: 2, column: 1 });
  assert.deepEqual(at.get("kubernetes.tolerations.1"), { line: 4, column: 1 });
  assert.deepEqual(at.get("kubernetes.tolerations.1.effect"), { line: 5, column: 3 });
});
