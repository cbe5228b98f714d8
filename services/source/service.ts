import type { ServiceImpl } from "@connectrpc/connect";
import type { GitSource as GitSourceMessage } from "../../libs/gen/buildplane/v1/common_pb.js";
import type { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { secretOrUndefined } from "../../libs/secret/secret.js";
import type { SourceCheckout, SourceRef } from "./source-checkout.js";

/** What the source service is built from. */
export interface SourceServiceDeps {
  readonly checkout: SourceCheckout;
}

/** Request message → our own source type; per-request secrets become Secret at once. */
function sourceRef(src: GitSourceMessage | undefined): SourceRef {
  const c = src?.credentials;
  return {
    repository: src?.repository ?? "",
    ref: src?.ref ?? "",
    dir: src?.dir ?? "",
    authName: src?.authName ?? "",
    credentials: c === undefined ? undefined : {
      username: c.username,
      password: secretOrUndefined(c.password),
      privateKey: secretOrUndefined(c.privateKey),
    },
  };
}

/**
 * The SourceService handlers: parse, call the checkout domain with the
 * call's signal, map back. Errors stay DomainErrors; the RPC error
 * interceptor turns them into codes.
 */
export function createSourceService(deps: SourceServiceDeps): ServiceImpl<typeof SourceService> {
  const { checkout } = deps;
  return {
    async resolveRevision(req, ctx) {
      return { commit: await checkout.resolveRevision(sourceRef(req.source), ctx.signal) };
    },
    async describe(req, ctx) {
      const d = await checkout.describe(sourceRef(req.source), req.commit, req.containerfile, ctx.signal);
      return { commit: d.commit, treeHash: d.treeHash, containerfile: d.containerfile, ignoreRules: d.ignoreRules };
    },
    async *streamContext(req, ctx) {
      for await (const piece of checkout.streamContext(sourceRef(req.source), req.commit, req.containerfile, ctx.signal, { withSha256: req.withSha256 })) {
        if ("chunk" in piece) yield { chunk: piece.chunk };
        else yield { totalBytes: BigInt(piece.totalBytes), sha256: piece.sha256 };
      }
    },
  };
}
