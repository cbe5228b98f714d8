import type { Registry } from "../../libs/gen/buildplane/v1/common_pb.js";
import { repositoryOfReference, type PushPreflight } from "../../libs/registry/push-preflight.js";
import { registryOptionsFromProto } from "../../libs/registry/registry-from-proto.js";

/** Checks, before a build, that `registry` accepts a push of `reference` (see `createPushPreflight`). */
export type PushCheck = (registry: Registry, reference: string, signal: AbortSignal) => Promise<void>;

/** The EnsureImage flow's push check over the shared preflight. */
export function createPushCheck(preflight: PushPreflight): PushCheck {
  return (registry, reference, signal) =>
    preflight.check(registryOptionsFromProto(registry), repositoryOfReference(reference, registry.url), signal);
}
