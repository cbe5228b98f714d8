import { generateImage } from "../../libs/image/image-ref.js";
import type { RegistryLocation } from "../../libs/image/qualified-reference.js";
import { Secret } from "../../libs/secret/secret.js";
import type { ImageSpec, ResolvedImage } from "./domain.js";
import type { FoundIn, ImageLocator, SourcePort } from "./ports.js";
import { createPositiveCache } from "./positive-cache.js";

/** What resolving a spec found: the generated image, its inputs, and whether it exists. */
export interface ImageResolution {
  readonly key: string;
  readonly name: string;
  readonly reference: string;
  readonly commit: string;
  readonly treeHash: string;
  /** Containerfile path relative to the build folder, as the source service found it. */
  readonly containerfile: string;
  readonly exists: boolean;
  /** "" when missing. */
  readonly digest: string;
  readonly foundIn: FoundIn | "";
}

export interface ImageResolverDeps {
  /** The source service: commit and tree hash without a checkout. */
  readonly source: Pick<SourcePort, "describe">;
  /** `[registry] url` and `project`; undefined (or url "") keeps names local. */
  readonly registry: RegistryLocation | undefined;
  /** The registry check when a registry is configured, else the engine check. */
  readonly locator: ImageLocator;
  /** The install key that hashes secret args (metadata `GetInstallKey`); asked only when a spec has one. */
  readonly installKey?: (signal: AbortSignal | undefined) => Promise<Uint8Array>;
  /** Positive answers kept (default 10,000). */
  readonly cacheEntries?: number;
  /** How long a positive answer is used before the image is checked again (default 10 minutes; `[registry] exists_cache_ttl_secs`). */
  readonly cacheTtlMs?: number | (() => number);
  /** Registers for references garbage collection deleted, whose cached answers are then dropped. */
  readonly onCollected?: (listener: (reference: string) => void) => void;
  /**
   * Whether the news of collections reaches this process (collections may
   * run in another one): undefined while it may be missed, and cached
   * answers are then not used; a new number drops them all. Without it the
   * cache is always trusted (the collector runs in this process).
   */
  readonly cacheEpoch?: () => number | undefined;
}

/** Resolves a build spec to its image and whether that image exists. */
export type ImageResolver = (spec: ImageSpec, signal: AbortSignal | undefined) => Promise<ImageResolution>;

/**
 * ResolveImage's domain logic: ask the source service for the commit and
 * tree hash, name the image from build inputs only, and check existence
 * once per reference (positive answers are cached, negative ones never).
 */
export function createImageResolver(deps: ImageResolverDeps): ImageResolver {
  const cache = createPositiveCache<string>(deps.cacheEntries ?? 10_000, deps.cacheTtlMs !== undefined ? { ttlMs: deps.cacheTtlMs } : {});
  // Bumped by every collection heard: an answer found while one was heard is not cached.
  let changes = 0;
  let epoch: number | undefined;
  deps.onCollected?.((reference) => {
    changes++;
    cache.delete(`${deps.locator.kind}\0${reference}`);
  });
  const cacheTrusted = (): boolean => {
    if (!deps.cacheEpoch) return true;
    const now = deps.cacheEpoch();
    if (now === undefined) return false;
    if (now !== epoch) {
      cache.clear();
      epoch = now;
      changes++;
    }
    return true;
  };
  return async (spec, signal) => {
    const source = spec.source;
    const described = await deps.source.describe(source, spec.containerfile, signal);
    const installKey = spec.args.some((a) => a.value instanceof Secret) && deps.installKey ? await deps.installKey(signal) : undefined;
    const image = generateImage(
      {
        appId: spec.appId,
        repository: source?.repository ?? "",
        dir: source?.dir ?? "",
        treeHash: described.treeHash,
        containerfile: described.containerfile,
        args: spec.args.map((a) => ({ name: a.name, value: a.value, secret: a.value instanceof Secret })),
        target: spec.target,
        platform: spec.platform,
      },
      deps.registry,
      installKey,
    );
    const cacheKey = `${deps.locator.kind}\0${image.reference}`;
    const useCache = cacheTrusted();
    const heard = changes;
    let digest = useCache ? cache.get(cacheKey) : undefined;
    if (digest === undefined) {
      digest = (await deps.locator.find(image.reference, signal))?.digest;
      if (digest !== undefined && useCache && cacheTrusted() && changes === heard) cache.set(cacheKey, digest);
    }
    return {
      ...image,
      commit: described.commit,
      treeHash: described.treeHash,
      containerfile: described.containerfile,
      exists: digest !== undefined,
      digest: digest ?? "",
      foundIn: digest === undefined ? "" : deps.locator.kind,
    };
  };
}

/** What the EnsureImage flow takes from a resolution. */
export function resolvedImageOf(r: ImageResolution): ResolvedImage {
  return { image: { key: r.key, name: r.name, reference: r.reference }, commit: r.commit, treeHash: r.treeHash, containerfile: r.containerfile, exists: r.exists, digest: r.digest };
}
