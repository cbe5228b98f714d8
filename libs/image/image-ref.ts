import { computeImageKey, type ImageInputs } from "./image-key.js";
import { appPartFromAppId, appPartFromSource, imageName } from "./image-name.js";
import { qualifiedReference, type RegistryLocation } from "./qualified-reference.js";

/** A generated image: its content key, local name and qualified reference. */
export interface GeneratedImage {
  readonly key: string;
  readonly name: string;
  readonly reference: string;
}

/**
 * Names the image for a set of build inputs: key, `cli-<app>:<16 hex>`, and
 * the qualified reference for `registry` (the local name without one).
 * `installKey` hashes secret args (see `computeImageKey`).
 */
export function generateImage(inputs: ImageInputs, registry: RegistryLocation | undefined, installKey?: Uint8Array): GeneratedImage {
  const key = computeImageKey(inputs, installKey);
  const app = inputs.appId !== "" ? appPartFromAppId(inputs.appId) : appPartFromSource(inputs.repository, inputs.dir);
  const name = imageName(app, key);
  return { key, name, reference: qualifiedReference(registry, name) };
}
