import assert from "node:assert/strict";
import { format, inspect } from "node:util";
import { describe, test } from "node:test";
import { redacted, Secret, secretOrUndefined } from "./secret.js";

const value = "hunter2-s3cret";

describe("Secret", () => {
  test("prints *** through toString, String() and a template literal", () => {
    const s = new Secret(value);
    assert.equal(s.toString(), "***");
    assert.equal(String(s), "***");
    assert.equal(`token=${s}`, "token=***");
    assert.equal(redacted, "***");
  });

  test("serialises to *** with toJSON and JSON.stringify, alone or inside an object", () => {
    const s = new Secret(value);
    assert.equal(s.toJSON(), "***");
    assert.equal(JSON.stringify(s), '"***"');
    const text = JSON.stringify({ registry: { username: "ci", password: s }, args: [s] });
    assert.equal(text, '{"registry":{"username":"ci","password":"***"},"args":["***"]}');
  });

  test("shows *** through util.inspect, also nested and with showHidden", () => {
    const s = new Secret(value);
    assert.equal(inspect(s), "Secret(***)");
    const nested = inspect({ a: { b: { c: s } } }, { depth: 10, showHidden: true });
    assert.match(nested, /Secret\(\*\*\*\)/);
    assert.ok(!nested.includes(value), nested);
  });

  test("shows *** through console-style formatting (%s %o %O %j)", () => {
    const s = new Secret(value);
    const line = format("%s %o %O %j", s, s, s, s);
    assert.ok(!line.includes(value), line);
    assert.equal(line, '*** Secret(***) Secret(***) "***"');
    const holder = { password: s };
    const objects = format("%s %o %O %j", holder, holder, holder, holder);
    assert.ok(!objects.includes(value), objects);
    assert.match(objects, /\{"password":"\*\*\*"\}$/);
  });

  test("gives the clear value only through unwrap", () => {
    assert.equal(new Secret(value).unwrap(), value);
    assert.equal(new Secret("").unwrap(), "");
  });

  test("isEmpty is true only for the empty string", () => {
    assert.equal(new Secret("").isEmpty, true);
    assert.equal(new Secret(" ").isEmpty, false);
    assert.equal(new Secret(value).isEmpty, false);
  });

  test("secretOrUndefined wraps a non-empty value and gives undefined for an empty or missing one", () => {
    assert.equal(secretOrUndefined(value)?.unwrap(), value);
    assert.equal(secretOrUndefined(""), undefined);
    assert.equal(secretOrUndefined(undefined), undefined);
  });
});
