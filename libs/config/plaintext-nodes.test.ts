import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPlaintextNodeUrl } from "./plaintext-nodes.js";

describe("isPlaintextNodeUrl", () => {
  const table: Array<[string, boolean]> = [
    ["http://10.0.0.5:7000", true],
    ["http://builder.internal:7000", true],
    ["openrun+http://builder.internal:25222", true],
    ["http://127.0.0.1:7000", false],
    ["http://127.8.9.10:7000", false],
    ["http://localhost:7000", false],
    ["http://node1.localhost:7000", false],
    ["openrun+http://localhost:25222", false],
    ["https://10.0.0.5:7000", false],
    ["openrun+https://builder.internal:25222", false],
    ["http://127.0.0.1.example.com:7000", true],
  ];
  for (const [url, plaintext] of table) {
    it(`says ${url} is ${plaintext ? "" : "not "}plaintext across the network`, () => assert.equal(isPlaintextNodeUrl(url), plaintext));
  }
});
