import { LifecycleService } from "../../libs/gen/buildplane/v1/lifecycle_pb.js";
import { createPushPreflight } from "../../libs/registry/push-preflight.js";
import { checkRegistry } from "../../libs/registry/registry-check.js";
import { createRegistryClientPool } from "../../libs/registry/registry-client-pool.js";
import { registryOptionsFromProto } from "../../libs/registry/registry-from-proto.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { createLifecycleService } from "../../services/lifecycle/service.js";
import type { ServiceContext } from "../service-registry.js";

/**
 * The lifecycle service: registry push check, garbage collection and pins.
 * It reaches the registry with the credentials the config service hands out.
 */
export function lifecycleFactory(ctx: ServiceContext): MountedService {
  const pool = createRegistryClientPool();
  ctx.defer(async () => pool.close());
  const preflight = createPushPreflight({ pool, ttlMs: () => 0 });
  return mountService(
    LifecycleService,
    createLifecycleService({
      async checkRegistry(signal) {
        const { registry } = await ctx.clients.config.getRegistryCredentials({}, { signal });
        const location = { url: registry?.url ?? "", project: registry?.project ?? "" };
        return checkRegistry(location, registry && registry.url !== "" ? registryOptionsFromProto(registry) : undefined, preflight, signal);
      },
    }),
  );
}
