import type { GcImage } from "./plan-collection.js";

/** The label every image buildplane builds carries, holding its image key. */
export const imageKeyLabel = "buildplane.image-key";

/** The local engine as collection needs it. */
export interface GcEngine {
  /** Whether the engine holds `reference`, and its labels. */
  find(reference: string, signal: AbortSignal): Promise<{ labels: Readonly<Record<string, string>> } | undefined>;
  /** Removes the name; false when it was gone already. */
  remove(reference: string, signal: AbortSignal): Promise<boolean>;
}

/** The registry as collection needs it, for references on its host. */
export interface GcRegistry {
  /** host[:port] every reference it handles starts with. */
  readonly host: string;
  /** The manifest digest behind `repository:tag` and its image config's labels; undefined when the tag is gone. */
  find(repository: string, tag: string, signal: AbortSignal): Promise<{ digest: string; labels: Readonly<Record<string, string>> } | undefined>;
  /** Deletes the manifest by digest; false when it was gone already. Throws when the registry refuses. */
  remove(repository: string, digest: string, signal: AbortSignal): Promise<boolean>;
}

/** What happened to one image. */
export interface CollectedImage extends GcImage {
  readonly engineDeleted: boolean;
  readonly registryDeleted: boolean;
  /** Why a delete was refused or failed ("" when none was); the record is then not marked collected. */
  readonly error: string;
}

export interface CollectDeps {
  /** Undefined when builds do not use a local engine (kaniko, builder nodes). */
  readonly engine: GcEngine | undefined;
  /** Undefined without a registry. */
  readonly registry: GcRegistry | undefined;
}

/**
 * Deletes each image from the local engine and the registry, but only an
 * image whose `buildplane.image-key` label is the key its builds recorded:
 * what buildplane did not build is never touched. A registry that refuses
 * deletes is asked once per run: the other images get the same error
 * without another request. An image counts as collected only when it is
 * gone from both.
 */
export async function collectImages(images: readonly GcImage[], deps: CollectDeps, signal: AbortSignal): Promise<CollectedImage[]> {
  const out: CollectedImage[] = [];
  let registryRefusal: string | undefined;
  for (const image of images) {
    signal.throwIfAborted();
    const errors: string[] = [];
    let engineDeleted = false;
    let registryDeleted = false;
    if (deps.engine) {
      // The engine keeps an image under its generated name (`cli-app:tag`), also when it was pushed.
      const local = localName(image.image);
      try {
        const found = await deps.engine.find(local, signal);
        if (found && found.labels[imageKeyLabel] !== image.imageKey) {
          errors.push(`engine image "${local}" has no ${imageKeyLabel} label of ${image.imageKey}: not built by buildplane, left alone`);
        } else if (found) {
          engineDeleted = await deps.engine.remove(local, signal);
        }
      } catch (err) {
        errors.push(`engine: ${messageOf(err)}`);
      }
    }
    const remote = deps.registry ? splitReference(image.image, deps.registry.host) : undefined;
    if (deps.registry && remote && errors.length === 0) {
      if (registryRefusal !== undefined) {
        errors.push(registryRefusal);
      } else {
        try {
          const found = await deps.registry.find(remote.repository, remote.tag, signal);
          if (found && found.labels[imageKeyLabel] !== image.imageKey) {
            errors.push(`registry image "${image.image}" has no ${imageKeyLabel} label of ${image.imageKey}: not built by buildplane, left alone`);
          } else if (found) {
            registryDeleted = await deps.registry.remove(remote.repository, found.digest, signal);
          }
        } catch (err) {
          if (signal.aborted) throw err;
          const message = `registry: ${messageOf(err)}`;
          errors.push(message);
          if (/does not allow deletes|denied|unauthorized|forbidden|405|401|403/i.test(message)) registryRefusal = message;
        }
      }
    }
    out.push({ ...image, engineDeleted, registryDeleted, error: errors.join("; ") });
  }
  return out;
}

/** The generated name of a reference: what follows its registry and project. */
export function localName(reference: string): string {
  return reference.slice(reference.lastIndexOf("/") + 1);
}

/** `repository` and `tag` of `host/repository:tag` when it is on `host`. */
export function splitReference(reference: string, host: string): { repository: string; tag: string } | undefined {
  if (!reference.startsWith(`${host}/`)) return undefined;
  const rest = reference.slice(host.length + 1);
  const colon = rest.lastIndexOf(":");
  if (colon <= 0 || rest.includes("@")) return undefined;
  return { repository: rest.slice(0, colon), tag: rest.slice(colon + 1) };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
