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
    const pick = (service: typeof SourceService | typeof ResolverService, method: string, message: unknown) => {
      const picker = repositoryFields.get(service)?.[method];
      assert.equal(typeof picker, "function", `${method} names a repository`);
      return typeof picker === "function" ? picker(message)?.repository : undefined;
    };
    assert.equal(pick(SourceService, "StreamContext", { source }), "/srv/x");
    assert.equal(pick(ResolverService, "EnsureImage", { spec: { source } }), "/srv/x");
  });

  it("leaves the context upload unread: it carries no repository, and its handler refuses a header naming one", () => {
    assert.equal(repositoryFields.get(ResolverService)?.["EnsureImageFromContext"], "none");
  });
});
