import type { ServiceImpl } from "@connectrpc/connect";
import type { Build } from "../../libs/gen/buildplane/v1/metadata_pb.js";
import { LifecycleService } from "../../libs/gen/buildplane/v1/lifecycle_pb.js";
import type { RegistryCheckResult } from "../../libs/registry/registry-check.js";
import type { CollectionResult } from "./gc/run-collection.js";

/** A collection as the RPC asks it: unset numbers take the `[gc]` settings. */
export interface CollectGarbageInput {
  readonly appId: string;
  readonly keep: number | undefined;
  readonly olderThanSecs: number | undefined;
  readonly dryRun: boolean;
}

/** What the lifecycle service needs: one domain function per RPC. */
export interface LifecycleServiceDeps {
  checkRegistry(signal: AbortSignal): Promise<RegistryCheckResult>;
  collectGarbage(input: CollectGarbageInput, signal: AbortSignal): Promise<CollectionResult>;
  pinBuild(id: string, pinned: boolean, signal: AbortSignal): Promise<Build | undefined>;
}

/** Creates the lifecycle service; handlers stay thin, errors map in the shared interceptor. */
export function createLifecycleService(deps: LifecycleServiceDeps): ServiceImpl<typeof LifecycleService> {
  return {
    async checkRegistry(_req, ctx) {
      return deps.checkRegistry(ctx.signal);
    },
    async collectGarbage(req, ctx) {
      const result = await deps.collectGarbage(
        { appId: req.appId, keep: req.keep, olderThanSecs: req.olderThanSecs === undefined ? undefined : Number(req.olderThanSecs), dryRun: req.dryRun },
        ctx.signal,
      );
      return {
        images: result.images.map((i) => ({
          buildId: i.buildIds[0] ?? "",
          buildIds: [...i.buildIds],
          appId: i.app,
          image: i.image,
          digest: i.digest,
          engineDeleted: i.engineDeleted,
          registryDeleted: i.registryDeleted,
          error: i.error,
        })),
        kept: result.held.length,
        dryRun: result.dryRun,
        held: result.held.map((h) => ({ appId: h.app, image: h.image, reason: h.reason })),
      };
    },
    async pinBuild(req, ctx) {
      return { build: await deps.pinBuild(req.id, req.pinned, ctx.signal) };
    },
  };
}
