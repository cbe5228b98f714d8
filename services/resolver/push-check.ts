import { repositoryOfReference, type PushPreflight } from "../../libs/registry/push-preflight.js";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";

/** Checks, before a build, that `registry` accepts a push of `reference` (see `createPushPreflight`). */
export type PushCheck = (registry: RegistryTarget, reference: string, signal: AbortSignal) => Promise<void>;

/** The EnsureImage flow's push check over the shared preflight. */
export function createPushCheck(preflight: PushPreflight): PushCheck {
  return (registry, reference, signal) => {
    const { project: _project, ...options } = registry;
    return preflight.check(options, repositoryOfReference(reference, registry.url), signal);
  };
}
