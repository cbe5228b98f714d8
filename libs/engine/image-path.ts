/**
 * The Engine API path of an image endpoint, `/images/{name}{suffix}`, with
 * the name percent-encoded as one path segment. A reference comes from
 * callers (`HasImage`, a delegated build), and unencoded a `?`, `#`, `/../`
 * or `%` in it would change which endpoint and query the engine sees;
 * encoded, the whole text is the image name (Docker and Podman decode it),
 * and a name that is not an image is answered "no such image".
 */
export function imagePath(reference: string, suffix: "/json" | "/get" | "/tag?" | "/push?" | "?"): string {
  return `/images/${encodeURIComponent(reference)}${suffix}`;
}
