import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { ResolverService } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { followCollectedImages } from "../../libs/image/collected-images-feed.js";
import { loadRegistryOptions } from "../../libs/registry/registry-options.js";
import { timedPhase } from "../../libs/metrics/timed-phase.js";
import { createRegistryClient } from "../../libs/registry/registry-client.js";
import { registryTargetFromWire } from "../../libs/registry/registry-target.js";
import { secretValuesIn } from "../../libs/secret/scrub.js";
import { mountService, type MountedService } from "../../libs/rpc/service-mount.js";
import { createEnsureImageFromUpload } from "../../services/resolver/ensure-from-upload.js";
import { createEnsureImage } from "../../services/resolver/ensure-image.js";
import { sharedPushCheck } from "./push-check.js";
import { createBuilderImageLocator, createRegistryImageLocatorOnFirstUse, type ImageLocator } from "../../services/resolver/image-locator.js";
import { holderIdentity } from "../../services/resolver/holder-identity.js";
import { createBuilderPort } from "../../services/resolver/builder-port.js";
import { createMetadataPort } from "../../services/resolver/metadata-port.js";
import { createImageResolver, resolvedImageOf } from "../../services/resolver/resolve-image.js";
import { createResolverService } from "../../services/resolver/service.js";
import { createSourcePort } from "../../services/resolver/source-port.js";
import { callFromWire } from "../../services/resolver/wire-in.js";
import { createLocalRootsPolicy } from "../../services/source/local-roots.js";
import { createRepositoryNetworkGuard } from "../../services/source/network-guard.js";
import { createPinnedDescribeCache } from "../../services/source/pinned-describe-cache.js";
import type { ServiceContext } from "../service-registry.js";

/**
 * The resolver: names images, checks the registry (or, without one, the
 * builder's engine through `HasImage`), and runs EnsureImage against the
 * source, metadata and builder services.
 */
export function resolverFactory(ctx: ServiceContext): MountedService {
  const config = ctx.config.current();
  const registry = config.registry.url === "" ? undefined : { url: config.registry.url, project: config.registry.project };
  const onExchange = (op: string, code: string): void => ctx.metrics.registryRequests.inc({ op, code });
  const locator: ImageLocator = registry
    ? createRegistryImageLocatorOnFirstUse(async () => createRegistryClient(await loadRegistryOptions(ctx.config.current().registry), { onExchange }))
    : createBuilderImageLocator(ctx.clients.builder);
  const installKey = cachedInstallKey(ctx);
  // A pinned commit's folder is described once, not on every EnsureImage of an existing image.
  const describe = createPinnedDescribeCache(ctx.clients.source);
  const source = createSourcePort({ describe: (req, opts) => describe.describe(req, opts), streamContext: (req, opts) => ctx.clients.source.streamContext(req, opts) });
  // Collections may run in another process: their images come from the
  // metadata service. A one-shot build does not watch (nor open the metadata
  // database for it) and uses no cached existence answer.
  const collectedFeed = ctx.oneShot
    ? { epoch: () => undefined }
    : followCollectedImages({
        watch: (signal) => ctx.clients.metadata.watchCollected({}, { signal }),
        collected: (references) => ctx.collectedImages.collected(references),
        signal: ctx.signal,
        onChange: (live, reason) =>
          live ? ctx.log.info("watching collected images: cached existence answers trusted", {}) : ctx.log.info("collected images not watched: cached existence answers unused until watched again", { reason }),
      });
  const resolveImage = createImageResolver({
    source,
    registry,
    locator,
    installKey,
    onCollected: (l) => ctx.collectedImages.onCollected(l),
    cacheEpoch: () => collectedFeed.epoch(),
    cacheTtlMs: () => ctx.config.current().registry.existsCacheTtlSecs * 1000,
  });
  const ensureImage = createEnsureImage({
    ports: { source, builder: createBuilderPort(ctx.clients.builder), metadata: createMetadataPort(ctx.clients.metadata) },
    resolve: (spec, signal) => timedPhase(ctx.metrics, "resolve", async () => resolvedImageOf(await resolveImage(spec, signal))),
    registry: async (signal) => {
      const wire = registry ? (await callFromWire(ctx.clients.config.getRegistryCredentials({}, { signal }))).registry : undefined;
      return wire === undefined ? undefined : registryTargetFromWire(wire);
    },
    holder: holderIdentity(hostname(), process.pid, randomUUID().slice(0, 8)),
    mode: config.builder.effectiveMode.kind,
    timeoutSecs: config.builder.buildTimeoutSecs,
    leaseTtlMs: config.builder.leaseTtlSecs * 1000,
    outageBudgetMs: config.metadata.outageBudgetSecs * 1000,
    knownSecrets: () => secretValuesIn(ctx.config.current()),
    pushCheck: sharedPushCheck(ctx),
  });
  // Runs before the metadata database closes (clean-ups run in reverse): a
  // build stopped at shutdown still writes its final record and releases its lease.
  ctx.defer(() => ensureImage.drain());
  const ensureImageFromUpload = createEnsureImageFromUpload({
    flow: ensureImage,
    registry,
    locator,
    installKey,
    spool: { maxBytes: config.builder.maxUploadBytes, timeoutSecs: config.builder.uploadTimeoutSecs },
  });
  // The resolver reaches the source service in-process: guard repositories at its own network edge.
  const policy = createLocalRootsPolicy(() => ctx.config.current().source.localRoots);
  return {
    ...mountService(ResolverService, createResolverService({ resolveImage, ensureImage, ensureImageFromUpload })),
    buildPaths: [`/${ResolverService.typeName}/EnsureImage`, `/${ResolverService.typeName}/EnsureImageFromContext`],
    cancelBuilds: (reason) => ensureImage.cancelAll(reason),
    networkInterceptors: [createRepositoryNetworkGuard(policy, ResolverService)],
  };
}

/** The install key from the metadata service, asked once (again after a failure): it never changes. Its RPC error is a `CallError`, as the resolver's ports give. */
function cachedInstallKey(ctx: ServiceContext): (signal: AbortSignal | undefined) => Promise<Uint8Array> {
  let key: Uint8Array | undefined;
  return async (signal) => (key ??= (await callFromWire(ctx.clients.metadata.getInstallKey({}, signal ? { signal } : {}))).key);
}
