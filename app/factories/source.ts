import { SourceService } from "../../libs/gen/buildplane/v1/source_pb.js";
import { createMirrorObserver } from "../../libs/metrics/mirror-observer.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { createSourceService } from "../../services/source/service.js";
import { createLocalRootsPolicy } from "../../services/source/local-roots.js";
import { createRepositoryNetworkGuard } from "../../services/source/network-guard.js";
import { createSourceCheckout } from "../../services/source/source-checkout.js";
import { sourceOptionsFromConfig } from "../../services/source/source-options.js";
import type { ServiceContext } from "../service-registry.js";

/**
 * The source-checkout service, with its mirror cache under the data dir;
 * network callers may name server paths only under `[source] local_roots`.
 */
export function sourceFactory(ctx: ServiceContext): MountedService {
  const checkout = createSourceCheckout(sourceOptionsFromConfig(ctx.config.current()), createMirrorObserver(ctx.metrics));
  const policy = createLocalRootsPolicy(() => ctx.config.current().source.localRoots);
  return {
    ...mountService(SourceService, createSourceService({ checkout })),
    networkInterceptors: [createRepositoryNetworkGuard(policy, SourceService)],
  };
}
