import type { BuildFlight } from "./build-flight.js";
import type { ImageSpec, ResolvedImage } from "./domain.js";
import { followRemoteBuild, type FollowRemoteDeps } from "./follow-remote-build.js";
import { takeLease, type HeldLease, type TakeLeaseDeps } from "./lease-take.js";

/** The lease this process took for a build, and the dead holder it was taken from. */
export interface LeaseForBuild {
  readonly lease: HeldLease;
  readonly replaced: string | undefined;
}

/** The build lease key of an image key. */
export function buildLeaseKey(imageKey: string): string {
  return `build:${imageKey}`;
}

/**
 * Takes the build lease of `resolved`'s image for this process; while
 * another live process holds it, follows that process's build instead.
 * Resolves the lease once it is ours, or undefined when the followed
 * build gave the flight its outcome (the flight is then finished).
 */
export async function leaseOrFollow(
  take: TakeLeaseDeps,
  follow: FollowRemoteDeps,
  spec: ImageSpec,
  resolved: ResolvedImage,
  flight: BuildFlight,
): Promise<LeaseForBuild | undefined> {
  for (;;) {
    const took = await takeLease(take, buildLeaseKey(resolved.image.key));
    if (took.taken) return { lease: took.lease, replaced: took.replaced };
    // Another process builds it: follow, and build here if that build stops without an outcome.
    if ((await followRemoteBuild(follow, spec, resolved, flight)) === "ended") return undefined;
  }
}
