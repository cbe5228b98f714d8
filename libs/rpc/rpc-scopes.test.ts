import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DescService } from "@bufbuild/protobuf";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { httpRouteScopes, rpcScopes, ruleForRequest } from "./rpc-scopes.js";
import { serviceDescriptors } from "./service-names.js";

/** Every service the port mounts: ours, health and both reflections. */
const mounted: readonly DescService[] = [...Object.values(serviceDescriptors), Health, ReflectionV1, ReflectionV1alpha];

describe("the RPC scope table", () => {
  it("has a scope for every method of every mounted service", () => {
    const missing = mounted.flatMap((s) => s.methods.filter((m) => rpcScopes[s.typeName]?.[m.name] === undefined).map((m) => `${s.typeName}/${m.name}`));
    assert.deepEqual(missing, [], `methods without a scope in libs/rpc/rpc-scopes.ts: ${missing.join(", ")}`);
  });

  it("names no method that no mounted service has", () => {
    const known = new Set(mounted.flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.name}`)));
    const stale = Object.entries(rpcScopes).flatMap(([service, methods]) => Object.keys(methods).map((m) => `${service}/${m}`)).filter((k) => !known.has(k));
    assert.deepEqual(stale, []);
  });

  it("gives every guarded method at least one scope", () => {
    const empty = Object.entries(rpcScopes).flatMap(([service, methods]) => Object.entries(methods).filter(([, rule]) => rule !== "open" && rule.length === 0).map(([m]) => `${service}/${m}`));
    assert.deepEqual(empty, []);
  });

  it("leaves only health and reflection open", () => {
    const open = Object.entries(rpcScopes).filter(([, methods]) => Object.values(methods).some((r) => r === "open")).map(([s]) => s);
    assert.deepEqual(open.sort(), ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]);
  });

  it("keeps registry credentials and the source service internal", () => {
    assert.deepEqual(rpcScopes["buildplane.v1.ConfigService"]?.["GetRegistryCredentials"], ["internal"]);
    for (const m of serviceDescriptors.source.methods) assert.deepEqual(rpcScopes["buildplane.v1.SourceService"]?.[m.name], ["internal"]);
  });

  it("maps a request path to the method's rule and name, and OpenRun's delegate route to node", () => {
    assert.deepEqual(ruleForRequest("POST", "/buildplane.v1.ResolverService/EnsureImage"), { name: "ResolverService.EnsureImage", rule: ["build"] });
    assert.deepEqual(ruleForRequest("post", "/_openrun/delegate_build"), { name: "POST /_openrun/delegate_build", rule: ["node"] });
    assert.deepEqual(httpRouteScopes["POST /_openrun/delegate_build"], ["node"]);
    assert.deepEqual(ruleForRequest("POST", "/buildplane.v1.ResolverService/NoSuchMethod"), { name: "ResolverService.NoSuchMethod", rule: [] });
    assert.equal(ruleForRequest("POST", "/buildplane.v1.NoSuchService/Method"), undefined);
    assert.equal(ruleForRequest("GET", "/nothing-here"), undefined);
  });

  it("opens the web page's routes to GET and HEAD only, one path segment per star", () => {
    assert.deepEqual(ruleForRequest("GET", "/"), { name: "GET /", rule: "open" });
    assert.deepEqual(ruleForRequest("HEAD", "/pool"), { name: "HEAD /pool", rule: "open" });
    assert.deepEqual(ruleForRequest("GET", "/builds/b_0123"), { name: "GET /builds/*", rule: "open" });
    assert.deepEqual(ruleForRequest("GET", "/assets/main-ABC.js"), { name: "GET /assets/*", rule: "open" });
    assert.equal(ruleForRequest("GET", "/builds/a/b"), undefined);
    assert.equal(ruleForRequest("GET", "/builds/"), undefined);
    assert.equal(ruleForRequest("POST", "/"), undefined);
    assert.equal(ruleForRequest("GET", "/assets/../x"), undefined);
  });
});
