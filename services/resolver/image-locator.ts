import { DomainError } from "../../libs/errors/domain-error.js";
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

/** The few Engine API calls the engine check makes (dockerode's `Docker` fits). */
export interface EngineImages {
  getImage(name: string): { inspect(): Promise<{ Id: string; RepoDigests?: string[] }> };
}

/** The engine could not answer an image check. */
export class EngineCheckError extends DomainError {
  constructor(reference: string, detail: string, options?: { cause?: unknown }) {
    super("unavailable", `container engine could not check image "${reference}": ${detail}`, options);
  }
}

/**
 * The local check through the Engine API (Docker, or Podman's API service):
 * an image inspect, 404 meaning missing. The digest is the repo digest when
 * the image came from a registry, else the image id.
 */
export function createEngineImageLocator(engine: EngineImages): ImageLocator {
  return {
    kind: "engine",
    async find(reference, signal) {
      try {
        // dockerode's inspect takes no signal (its options become query parameters); the call is one short GET.
        if (signal?.aborted === true) throw new Error("aborted");
        const info = await engine.getImage(reference).inspect();
        const repoDigest = info.RepoDigests?.map((d) => d.split("@")[1]).find((d) => d !== undefined);
        return { digest: repoDigest ?? info.Id };
      } catch (err) {
        const e = err as { statusCode?: number; message?: string };
        if (e.statusCode === 404) return undefined;
        if (signal?.aborted === true) throw new DomainError("canceled", `image check for "${reference}" was canceled`, { cause: err });
        throw new EngineCheckError(reference, (e.message ?? String(err)).replace(/\s+/g, " ").trim(), { cause: err });
      }
    },
  };
}
