import type { ServiceImpl } from "@connectrpc/connect";
import { DomainError } from "../../libs/errors/domain-error.js";
import { LifecycleService } from "../../libs/gen/buildplane/v1/lifecycle_pb.js";
import type { RegistryCheckResult } from "../../libs/registry/registry-check.js";

/** What the lifecycle service needs: one domain function per RPC. */
export interface LifecycleServiceDeps {
  checkRegistry(signal: AbortSignal): Promise<RegistryCheckResult>;
}

/** Creates the lifecycle service; handlers stay thin, errors map in the shared interceptor. */
export function createLifecycleService(deps: LifecycleServiceDeps): ServiceImpl<typeof LifecycleService> {
  return {
    async checkRegistry(_req, ctx) {
      return deps.checkRegistry(ctx.signal);
    },
    async collectGarbage() {
      throw new DomainError("unimplemented", "garbage collection is not available yet");
    },
    async pinBuild() {
      throw new DomainError("unimplemented", "pins are not available yet");
    },
  };
}
