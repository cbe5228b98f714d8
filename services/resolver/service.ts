import type { ServiceImpl } from "@connectrpc/connect";
import { DomainError } from "../../libs/errors/domain-error.js";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import type { EnsureImageFromContextRequest } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import type { EnsureImageFromUpload } from "./ensure-from-upload.js";
import type { EnsureImage } from "./ensure-image.js";
import { UploadHeaderError } from "./upload-errors.js";
import type { ImageResolver } from "./resolve-image.js";
import { callFromWire, imageSpecFromWire, signalFromWire } from "./wire-in.js";
import { imageEventToWire, imageRefToWire } from "./wire-out.js";

/** What the resolver service needs: the resolver, and the EnsureImage flow when it is wired. */
export interface ResolverServiceDeps {
  readonly resolveImage: ImageResolver;
  readonly ensureImage?: EnsureImage;
  /** EnsureImageFromContext, when EnsureImage is wired. */
  readonly ensureImageFromUpload?: EnsureImageFromUpload;
}

/**
 * Creates the resolver service. Handlers stay thin: the request and the
 * call's signal become the resolver's own types (wire-in.ts), go to the
 * domain function, and its result and events become the response
 * (wire-out.ts). Its domain errors, relayed ones (`CallError`) included,
 * become RPC errors in the shared error interceptor, like every service's.
 */
export function createResolverService(deps: ResolverServiceDeps): ServiceImpl<typeof ResolverService> {
  return {
    async resolveImage(req, ctx) {
      if (req.spec === undefined) throw new DomainError("invalidArgument", "resolve image request has no spec: expected spec.source.repository at least");
      const r = await deps.resolveImage(imageSpecFromWire(req.spec), signalFromWire(ctx.signal));
      return { image: imageRefToWire(r), commit: r.commit, treeHash: r.treeHash, exists: r.exists, digest: r.digest, foundIn: r.foundIn };
    },
    async *ensureImage(req, ctx) {
      if (req.spec === undefined) throw new DomainError("invalidArgument", "ensure image request has no spec: expected spec.source.repository at least");
      if (deps.ensureImage === undefined) throw new DomainError("unimplemented", "this resolver only resolves images: EnsureImage is not configured");
      const events = deps.ensureImage(imageSpecFromWire(req.spec), req.force, signalFromWire(ctx.signal));
      for await (const event of events) yield { event: imageEventToWire(event) };
    },
    async *ensureImageFromContext(reqs, ctx) {
      if (deps.ensureImageFromUpload === undefined) throw new DomainError("unimplemented", "this resolver only resolves images: EnsureImageFromContext is not configured");
      const messages = reqs[Symbol.asyncIterator]();
      const first = await messages.next();
      if (first.done === true || first.value.message.case !== "header") {
        throw new UploadHeaderError("header", "the first message of an upload is not a header: expected a header, then the context's chunks");
      }
      const h = first.value.message.value;
      const header = { spec: h.spec === undefined ? undefined : imageSpecFromWire(h.spec), force: h.force, folder: h.folder, dir: h.dir, treeHash: h.treeHash };
      const events = deps.ensureImageFromUpload(header, contextChunks(messages), signalFromWire(ctx.signal));
      for await (const event of events) yield { event: imageEventToWire(event) };
    },
  };
}


/** The chunks after an upload's header; a second header is refused, and a failed request stream is a `CallError`. */
async function* contextChunks(messages: AsyncIterator<EnsureImageFromContextRequest>): AsyncGenerator<Uint8Array> {
  for (;;) {
    const next = await callFromWire(messages.next());
    if (next.done === true) return;
    if (next.value.message.case !== "chunk") throw new UploadHeaderError("header", "an upload has one header, first: expected only context chunks after it");
    yield next.value.message.value;
  }
}
