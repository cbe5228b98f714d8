import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseWwwAuthenticate } from "./www-authenticate.js";

describe("parseWwwAuthenticate", () => {
  const table: Array<[string | undefined, ReturnType<typeof parseWwwAuthenticate>]> = [
    ['Basic realm="Registry Realm"', { scheme: "basic", realm: "Registry Realm" }],
    ["basic", { scheme: "basic", realm: "" }],
    [
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"',
      { scheme: "bearer", realm: "https://auth.example.com/token", service: "registry.example.com", scope: "repository:a/b:pull,push" },
    ],
    ['Bearer realm="http://127.0.0.1:1/t", service=reg', { scheme: "bearer", realm: "http://127.0.0.1:1/t", service: "reg", scope: undefined }],
    ['Bearer realm="a\\"b"', { scheme: "bearer", realm: 'a"b', service: undefined, scope: undefined }],
    ['Bearer service="x"', undefined],
    ['Negotiate abc', undefined],
    [undefined, undefined],
  ];
  for (const [header, expected] of table) {
    it(`parses ${JSON.stringify(header)}`, () => {
      assert.deepEqual(parseWwwAuthenticate(header), expected);
    });
  }
});
