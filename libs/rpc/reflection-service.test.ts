import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import { ConfigService } from "../gen/buildplane/v1/config_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import * as v1 from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { createDescriptorIndex } from "./descriptor-index.js";
import { registerReflection } from "./reflection-service.js";

const index = createDescriptorIndex([ConfigService, Health, v1.ServerReflection, v1alpha.ServerReflection]);
const transport = createRouterTransport((router) => registerReflection(router, index));

type Request = Parameters<typeof create<typeof v1.ServerReflectionRequestSchema>>[1];

async function ask(request: Request): Promise<v1.ServerReflectionResponse> {
  const client = createClient(v1.ServerReflection, transport);
  async function* one() {
    yield create(v1.ServerReflectionRequestSchema, request);
  }
  for await (const res of client.serverReflectionInfo(one())) return res;
  throw new Error("no reflection response");
}

function fileNames(res: v1.ServerReflectionResponse): string[] {
  assert.equal(res.messageResponse.case, "fileDescriptorResponse");
  return res.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
}

describe("server reflection", () => {
  it("lists every mounted service", async () => {
    const res = await ask({ messageRequest: { case: "listServices", value: "" } });
    assert.equal(res.messageResponse.case, "listServicesResponse");
    assert.deepEqual(res.messageResponse.value.service.map((s) => s.name), [
      "buildplane.v1.ConfigService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it("returns the file of a service with its transitive imports", async () => {
    const res = await ask({ messageRequest: { case: "fileContainingSymbol", value: "buildplane.v1.ConfigService" } });
    assert.deepEqual(fileNames(res), ["buildplane/v1/config.proto", "buildplane/v1/common.proto", "google/protobuf/timestamp.proto"]);
  });

  it("finds the file of a method and of a message", async () => {
    const byMethod = await ask({ messageRequest: { case: "fileContainingSymbol", value: "buildplane.v1.ConfigService.GetConfig" } });
    assert.equal(fileNames(byMethod)[0], "buildplane/v1/config.proto");
    const byMessage = await ask({ messageRequest: { case: "fileContainingSymbol", value: "buildplane.v1.Registry" } });
    assert.equal(fileNames(byMessage)[0], "buildplane/v1/common.proto");
  });

  it("returns a file by its name", async () => {
    const res = await ask({ messageRequest: { case: "fileByFilename", value: "google/protobuf/timestamp.proto" } });
    assert.deepEqual(fileNames(res), ["google/protobuf/timestamp.proto"]);
  });

  it("answers an unknown symbol with a NOT_FOUND error response", async () => {
    const res = await ask({ messageRequest: { case: "fileContainingSymbol", value: "buildplane.v1.Nope" } });
    assert.equal(res.messageResponse.case, "errorResponse");
    assert.equal(res.messageResponse.value.errorCode, Code.NotFound);
    assert.equal(res.messageResponse.value.errorMessage, 'symbol "buildplane.v1.Nope" is not known to this server');
  });

  it("answers an unknown file name with a NOT_FOUND error response", async () => {
    const res = await ask({ messageRequest: { case: "fileByFilename", value: "nope.proto" } });
    assert.equal(res.messageResponse.case, "errorResponse");
    assert.equal(res.messageResponse.value.errorCode, Code.NotFound);
    assert.equal(res.messageResponse.value.errorMessage, 'file "nope.proto" is not known to this server');
  });

  it("answers several requests on one stream, and v1alpha too", async () => {
    const client = createClient(v1alpha.ServerReflection, transport);
    async function* two() {
      yield create(v1alpha.ServerReflectionRequestSchema, { host: "h", messageRequest: { case: "listServices", value: "" } });
      yield create(v1alpha.ServerReflectionRequestSchema, { messageRequest: { case: "fileByFilename", value: "grpc/health/v1/health.proto" } });
    }
    const cases: (string | undefined)[] = [];
    for await (const res of client.serverReflectionInfo(two())) cases.push(res.messageResponse.case);
    assert.deepEqual(cases, ["listServicesResponse", "fileDescriptorResponse"]);
  });
});
