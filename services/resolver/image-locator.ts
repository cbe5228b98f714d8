import type { Engine } from "../../libs/engine/engine.js";
import { parseReference } from "../../libs/image/reference.js";
import type { RegistryClient } from "../../libs/registry/registry-client.js";

/** Where an image was found, as ResolveImage reports it. */
export type FoundIn = "registry" | "engine";

/**
 * Answers "does this reference exist, and under which digest" from one
 * place: the registry when one is configured, else the local engine.
 * undefined means missing; any failure to answer throws (a 401 is never
 * taken for "missing").
 */
export interface ImageLocator {
  readonly kind: FoundIn;
  find(reference: string, signal: AbortSignal | undefined): Promise<{ readonly digest: string } | undefined>;
}

/** The registry check: one manifest HEAD through our client. */
export function createRegistryImageLocator(client: RegistryClient): ImageLocator {
  return {
    kind: "registry",
    async find(reference, signal) {
      const ref = parseReference(reference);
      const head = await client.headManifest(ref.path, ref.digest ?? ref.tag ?? "latest", signal);
      return head === undefined ? undefined : { digest: head.digest };
    },
  };
}

/**
 * The local check through the Engine API (Docker, or Podman's API service)
 * with `libs/engine`'s `hasImage`. The digest is the repo digest when the
 * image came from a registry, else the image id.
 */
export function createEngineImageLocator(engine: Pick<Engine, "hasImage">): ImageLocator {
  return {
    kind: "engine",
    async find(reference, signal) {
      const found = await engine.hasImage(reference, signal);
      return found.exists ? { digest: found.digest ?? found.id } : undefined;
    },
  };
}
