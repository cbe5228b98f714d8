import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { DomainError } from "../../libs/errors/domain-error.js";
import { ImageRefSchema, type ImageRef } from "../../libs/gen/buildplane/v1/common_pb.js";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import type { EnsureImageFromContextRequest } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import type { EnsureImageFromUpload } from "./ensure-from-upload.js";
import type { EnsureImage, ResolvedImage } from "./ensure-image.js";
import { UploadHeaderError } from "./upload-errors.js";
import type { ImageResolution, ImageResolver } from "./resolve-image.js";

/** What the resolver service needs: the resolver, and the EnsureImage flow when it is wired. */
export interface ResolverServiceDeps {
  readonly resolveImage: ImageResolver;
  readonly ensureImage?: EnsureImage;
  /** EnsureImageFromContext, when EnsureImage is wired. */
  readonly ensureImageFromUpload?: EnsureImageFromUpload;
}

/**
 * Creates the resolver service. Handlers stay thin: the spec goes to the
 * domain function with the call's signal; domain errors become RPC codes in
 * the shared error interceptor.
 */
export function createResolverService(deps: ResolverServiceDeps): ServiceImpl<typeof ResolverService> {
  return {
    async resolveImage(req, ctx) {
      if (req.spec === undefined) throw new DomainError("invalidArgument", "resolve image request has no spec: expected spec.source.repository at least");
      const r = await deps.resolveImage(req.spec, ctx.signal);
      return { image: imageRefOf(r), commit: r.commit, treeHash: r.treeHash, exists: r.exists, digest: r.digest, foundIn: r.foundIn };
    },
    async *ensureImage(req, ctx) {
      if (req.spec === undefined) throw new DomainError("invalidArgument", "ensure image request has no spec: expected spec.source.repository at least");
      if (deps.ensureImage === undefined) throw new DomainError("unimplemented", "this resolver only resolves images: EnsureImage is not configured");
      for await (const event of deps.ensureImage(req.spec, req.force, ctx.signal)) yield { event };
    },
    async *ensureImageFromContext(reqs, ctx) {
      if (deps.ensureImageFromUpload === undefined) throw new DomainError("unimplemented", "this resolver only resolves images: EnsureImageFromContext is not configured");
      const messages = reqs[Symbol.asyncIterator]();
      const first = await messages.next();
      if (first.done === true || first.value.message.case !== "header") {
        throw new UploadHeaderError("header", "the first message of an upload is not a header: expected a header, then the context's chunks");
      }
      const h = first.value.message.value;
      const header = { spec: h.spec, force: h.force, folder: h.folder, dir: h.dir, treeHash: h.treeHash };
      for await (const event of deps.ensureImageFromUpload(header, contextChunks(messages), ctx.signal)) yield { event };
    },
  };
}

/** The chunks after an upload's header; a second header is refused. */
async function* contextChunks(messages: AsyncIterator<EnsureImageFromContextRequest>): AsyncGenerator<Uint8Array> {
  for (;;) {
    const next = await messages.next();
    if (next.done === true) return;
    if (next.value.message.case !== "chunk") throw new UploadHeaderError("header", "an upload has one header, first: expected only context chunks after it");
    yield next.value.message.value;
  }
}

/** The proto ImageRef of a resolution. */
export function imageRefOf(r: ImageResolution): ImageRef {
  return create(ImageRefSchema, { key: r.key, name: r.name, reference: r.reference });
}

/** Adapts the resolver to the shape `createEnsureImage`'s `resolve` dependency expects. */
export function toResolvedImage(r: ImageResolution): ResolvedImage {
  return { image: imageRefOf(r), commit: r.commit, treeHash: r.treeHash, containerfile: r.containerfile, exists: r.exists, digest: r.digest };
}
