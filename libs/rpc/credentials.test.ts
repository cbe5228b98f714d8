import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Secret } from "../secret/secret.js";
import { createCredentials, type Identity } from "./credentials.js";

const build = "build-token-4a1f";
const node = "node-token-9c2e";

const credentials = createCredentials({
  tokens: [
    { name: "[security] build_token", token: new Secret(build), scopes: ["build", "read"] },
    { name: "[system] builder_auth_token", token: new Secret(node), scopes: ["node"] },
    { name: "[security] read_token", token: new Secret(""), scopes: ["read"] },
  ],
  clientScopes: { "ci.example": ["build"], "DNS:reader.example": ["read"], "*": ["read"] },
  mutualTls: true,
});

function scopes(identity: Identity): string[] {
  assert.ok(identity.ok, identity.ok ? "" : identity.message);
  return [...identity.scopes].sort();
}

function refusal(identity: Identity): string {
  assert.ok(!identity.ok, "expected the credential to be refused");
  return identity.message;
}

describe("credentials", () => {
  it("give a bearer token the scopes of its setting", () => {
    assert.deepEqual(scopes(credentials.identify(`Bearer ${build}`, undefined)), ["build", "read"]);
    assert.deepEqual(scopes(credentials.identify(`bearer ${node}`, undefined)), ["node"]);
  });

  it("refuse a request without a credential as a missing bearer token", () => {
    assert.equal(refusal(credentials.identify(undefined, undefined)), "missing bearer token");
  });

  it("refuse a wrong token, or one sharing a prefix, without echoing it", () => {
    assert.equal(refusal(credentials.identify("Bearer guess-1234", undefined)), "invalid bearer token");
    assert.equal(refusal(credentials.identify(`Bearer ${build.slice(0, -1)}`, undefined)), "invalid bearer token");
  });

  it("never accept the empty token of a setting left empty", () => {
    assert.equal(refusal(credentials.identify("Bearer ", undefined)), "authorization header is not valid: expected Bearer <token>");
  });

  it("refuse another authorization scheme, naming the one expected", () => {
    assert.equal(refusal(credentials.identify(`Basic ${build}`, undefined)), "authorization header is not valid: expected Bearer <token>");
  });

  it("give a client certificate the scopes of its CN, its SAN and the wildcard", () => {
    assert.deepEqual(scopes(credentials.identify(undefined, { commonName: "ci.example", altNames: [] })), ["build", "read"]);
    assert.deepEqual(scopes(credentials.identify(undefined, { commonName: "other", altNames: ["DNS:reader.example"] })), ["read"]);
  });

  it("add a token's scopes to a certificate's, and refuse a wrong token even with a certificate", () => {
    assert.deepEqual(scopes(credentials.identify(`Bearer ${node}`, { commonName: "ci.example", altNames: [] })), ["build", "node", "read"]);
    assert.equal(refusal(credentials.identify("Bearer wrong", { commonName: "ci.example", altNames: [] })), "invalid bearer token");
  });

  it("count as configured only with a non-empty token or client certificates", () => {
    assert.equal(createCredentials({ tokens: [{ name: "t", token: new Secret(""), scopes: ["read"] }], clientScopes: {}, mutualTls: false }).configured, false);
    assert.equal(createCredentials({ tokens: [], clientScopes: {}, mutualTls: true }).configured, true);
  });
});
