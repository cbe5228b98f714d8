import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FetchHeaders } from "./fetch-headers.js";

type AnyHeaders = Headers | FetchHeaders;
type Step = (h: AnyHeaders) => unknown;

/** What a sequence of steps gives on one class: each step's result or the error's type, then the entries. */
function run(make: (init?: never) => AnyHeaders, init: unknown, steps: readonly Step[]): unknown {
  let h: AnyHeaders;
  try {
    h = make(init as never);
  } catch (err) {
    return { constructor: (err as Error).constructor.name };
  }
  const results = steps.map((step) => {
    try {
      return { value: step(h) };
    } catch (err) {
      return { threw: (err as Error).constructor.name };
    }
  });
  const forEach: string[][] = [];
  h.forEach((value, name) => forEach.push([name, value]));
  return { results, entries: [...h], keys: [...h.keys()], values: [...h.values()], forEach, setCookie: h.getSetCookie(), tag: Object.prototype.toString.call(h) };
}

const cases: ReadonlyArray<{ name: string; init?: unknown; steps?: readonly Step[] }> = [
  { name: "empty" },
  { name: "a record", init: { "Content-Type": "application/grpc", "X-B": "2", "x-a": "1" } },
  { name: "pairs", init: [["grpc-status", "0"], ["Grpc-Message", "ok"], ["grpc-status", "1"]] },
  { name: "a pair of three", init: [["a", "1", "2"]] },
  { name: "a pair of one", init: [["a"]] },
  { name: "a number", init: 5 },
  { name: "null", init: null },
  { name: "an invalid name in a record", init: { "bad name": "1" } },
  { name: "a Headers object", init: new Headers([["a", "1"], ["a", "2"], ["set-cookie", "x=1"], ["set-cookie", "y=2"]]) },
  { name: "append joins, get is case-insensitive", steps: [(h) => h.append("Accept", "a"), (h) => h.append("accept", "b"), (h) => h.get("ACCEPT"), (h) => h.has("accept"), (h) => h.get("missing")] },
  { name: "set replaces, delete removes", steps: [(h) => h.append("a", "1"), (h) => h.append("a", "2"), (h) => h.set("A", "3"), (h) => h.get("a"), (h) => h.delete("A"), (h) => h.has("a")] },
  { name: "values are trimmed of HTTP whitespace only", steps: [(h) => h.set("a", " \t x y \r\n"), (h) => h.get("a"), (h) => h.set("b", "\u00a0z\u00a0"), (h) => h.get("b")] },
  { name: "set-cookie stays apart", steps: [(h) => h.append("Set-Cookie", "a=1"), (h) => h.append("set-cookie", "b=2"), (h) => h.get("set-cookie"), (h) => h.append("z", "1")] },
  { name: "iteration is sorted by name", steps: [(h) => h.append("zeta", "1"), (h) => h.append("Alpha", "2"), (h) => h.append("beta-", "3"), (h) => h.append("_x", "4"), (h) => h.append("0", "5")] },
  { name: "an empty value", steps: [(h) => h.append("a", ""), (h) => h.get("a"), (h) => h.has("a")] },
  {
    name: "invalid names throw",
    steps: ["", "a b", "a:b", "ä", "a\n", "(x)", "a/b", "__proto__", "constructor"].flatMap((n): Step[] => [(h) => h.append(n, "v"), (h) => h.get(n), (h) => h.has(n), (h) => h.delete(n), (h) => h.set(n, "v")]),
  },
  { name: "invalid values throw", steps: ["a\nb", "a\rb", "a\0b", "\u0100", "😀"].map((v): Step => (h) => h.append("a", v)) },
  { name: "Latin-1 values pass", steps: [(h) => h.append("a", "\u00ff\u0080 é"), (h) => h.get("a")] },
  { name: "non-strings are stringified", steps: [(h) => h.append("n", 5 as unknown as string), (h) => h.get("n")] },
  { name: "a name like an object's property", steps: [(h) => h.get("toString"), (h) => h.has("hasOwnProperty"), (h) => h.append("toString", "1"), (h) => h.get("tostring")] },
];

describe("FetchHeaders behaves as the platform's Headers", () => {
  for (const c of cases) {
    it(c.name, () => {
      const platform = run((init) => new Headers(init), c.init, c.steps ?? []);
      const ours = run((init) => new FetchHeaders(init), c.init, c.steps ?? []);
      assert.deepEqual(ours, platform);
    });
  }

  it("takes its own instances as init, and the platform's class takes them too", () => {
    const ours = new FetchHeaders({ a: "1" });
    ours.append("set-cookie", "x=1");
    ours.append("set-cookie", "y=2");
    assert.deepEqual([...new FetchHeaders(ours)], [["a", "1"], ["set-cookie", "x=1"], ["set-cookie", "y=2"]]);
    assert.deepEqual([...new Headers(ours as unknown as Headers)], [["a", "1"], ["set-cookie", "x=1"], ["set-cookie", "y=2"]]);
  });

  it("passes thisArg and itself to forEach", () => {
    const h = new FetchHeaders({ a: "1" });
    const self = {};
    h.forEach(function (this: unknown, _value, _name, parent) {
      assert.equal(this, self);
      assert.equal(parent, h);
    }, self);
  });

  it("names the offending input in its errors", () => {
    assert.throws(() => new FetchHeaders().append("a b", "1"), { name: "TypeError", message: 'Headers: "a b" is not a valid header name' });
    assert.throws(() => new FetchHeaders().append("a", "x\ny"), { name: "TypeError", message: "Headers: the value of a header may not contain NUL, CR, LF or characters past U+00FF" });
    assert.throws(() => new FetchHeaders([["a"]] as never), { name: "TypeError", message: "Headers: each header of a sequence must be a [name, value] pair" });
  });
});
