import assert from "node:assert/strict";
import { test } from "node:test";
import { create, equals } from "@bufbuild/protobuf";
import { RegistrySchema } from "../gen/buildplane/v1/common_pb.js";
import { Secret } from "../secret/secret.js";
import { registryTargetFromWire, registryTargetToWire } from "./registry-target.js";

test("a registry destination round-trips, its password and client key wrapped in between", () => {
  const wire = create(RegistrySchema, { url: "127.0.0.1:5000", project: "p", type: "ecr", insecure: true, username: "u", password: "pw-0001", caPem: "CA", clientCertPem: "CERT", clientKeyPem: "KEY-0001", awsRegion: "eu-west-1" });
  const target = registryTargetFromWire(wire);
  assert.ok(target.password instanceof Secret);
  assert.ok(target.clientKeyPem instanceof Secret);
  assert.equal(JSON.stringify(target).includes("pw-0001"), false);
  assert.equal(JSON.stringify(target).includes("KEY-0001"), false);
  assert.ok(equals(RegistrySchema, registryTargetToWire(target), wire));
});

test("empty credentials stay unset, and a type other than ecr is a plain registry", () => {
  const target = registryTargetFromWire(create(RegistrySchema, { url: "registry.example:5000", type: "gcr" }));
  assert.equal(target.password, undefined);
  assert.equal(target.clientKeyPem, undefined);
  assert.equal(target.type, "");
  assert.equal(registryTargetToWire(target).password, "");
});
