import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { repositoryFields } from "./network-guard.js";

describe("the repository guard's table", () => {
  for (const service of [SourceService, ResolverService]) {
    it(`lists every RPC of ${service.typeName}, so none skips the [source] local_roots check`, () => {
      const listed = Object.keys(repositoryFields.get(service) ?? {}).sort();
      assert.deepEqual(listed, service.methods.map((m) => m.name).sort());
    });
  }

  it("finds the repository where each request carries it", () => {
    const source = { repository: "/srv/x" };
    assert.equal(repositoryFields.get(SourceService)?.["StreamContext"]?.({ source })?.repository, "/srv/x");
    assert.equal(repositoryFields.get(ResolverService)?.["EnsureImage"]?.({ spec: { source } })?.repository, "/srv/x");
  });
});
