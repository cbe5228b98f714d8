import { parseReference } from "../../libs/image/reference.js";
import type { RegistryClientPool } from "../../libs/registry/registry-client-pool.js";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";
import { PushNotVerifiedError } from "./build-errors.js";

/** Looks up the manifest digest of `reference` in the registry; undefined when it is not there. */
export type CheckDigest = (reference: string, target: RegistryTarget, signal: AbortSignal) => Promise<string | undefined>;

/** `CheckDigest` through the builder's registry clients (a HEAD of the manifest). */
export function registryDigestCheck(registries: RegistryClientPool): CheckDigest {
  return async (reference, target, signal) =>
    registries.use(target, async (client) => {
      const ref = parseReference(reference);
      return (await client.headManifest(ref.path, ref.digest ?? ref.tag ?? "latest", signal))?.digest;
    });
}

/**
 * The one check after a push someone else made (a kaniko Job, a builder
 * node): the registry must hold `reference`, at `reported` when a digest was
 * reported. Resolves with the registry's digest; otherwise a
 * `PushNotVerifiedError` (dataLoss) naming who pushed.
 */
export async function verifyPushed(
  check: CheckDigest,
  push: { readonly by: string; readonly reference: string; readonly reported: string; readonly target: RegistryTarget },
  signal: AbortSignal,
): Promise<string> {
  const found = await check(push.reference, push.target, signal);
  if (found === undefined || (push.reported !== "" && push.reported !== found)) {
    throw new PushNotVerifiedError(push.by, push.reference, push.reported || "no digest", found);
  }
  return found;
}
