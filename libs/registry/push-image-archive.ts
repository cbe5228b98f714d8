import type { Readable } from "node:stream";
import { parseReference } from "../image/reference.js";
import { spoolDockerArchive, type SpooledBlob } from "./docker-archive.js";
import { RegistryProtocolError } from "./errors.js";
import { mediaTypes } from "./media-types.js";
import type { RegistryClient } from "./registry-client.js";

/** What a push did: the manifest digest and how many blobs went over the wire. */
export interface PushResult {
  readonly reference: string;
  readonly digest: string;
  readonly uploaded: number;
  readonly skipped: number;
  readonly bytesUploaded: number;
}

export interface PushOptions {
  readonly signal?: AbortSignal;
  /** Called after each blob is checked or sent, for progress events. */
  readonly onBlob?: (blob: { readonly digest: string; readonly size: number; readonly uploaded: boolean }) => void;
}

/**
 * Pushes an image exported from the engine (a `docker save` stream) to
 * `reference` through our registry client, so every registry option
 * (ca_file, mTLS, insecure, tokens, ECR) applies whatever the engine itself
 * trusts. Layers go up uncompressed as OCI `layer.v1.tar`: the digest is the
 * layer's diff_id, known from one hashing pass, and the same on every
 * machine; gzip would save bandwidth but needs a second spool and makes the
 * digest depend on the compressor. Blobs the repository already holds are
 * not sent again. Returns the manifest digest. The spool is removed on
 * every path.
 */
export async function pushImageArchive(client: RegistryClient, archive: Readable, reference: string, options: PushOptions = {}): Promise<PushResult> {
  const ref = parseReference(reference);
  if (ref.domain !== client.host) {
    throw new RegistryProtocolError(client.host, `cannot push ${JSON.stringify(reference)} through a client for another registry`, undefined, "invalidArgument");
  }
  const tag = ref.tag ?? "latest";
  const image = await spoolDockerArchive(archive, options.signal);
  try {
    let uploaded = 0;
    let skipped = 0;
    let bytesUploaded = 0;
    const seen = new Set<string>();
    for (const blob of [image.config, ...image.layers]) {
      if (seen.has(blob.digest)) continue;
      seen.add(blob.digest);
      const exists = await client.hasBlob(ref.path, blob.digest, options.signal);
      if (exists) skipped++;
      else {
        await client.uploadBlob(ref.path, blob, options.signal);
        uploaded++;
        bytesUploaded += blob.size;
      }
      options.onBlob?.({ digest: blob.digest, size: blob.size, uploaded: !exists });
    }
    const body = Buffer.from(JSON.stringify(manifestFor(image.config, image.layers)));
    const digest = await client.putManifest(ref.path, tag, { mediaType: mediaTypes.ociManifest, body }, options.signal);
    return { reference, digest, uploaded, skipped, bytesUploaded };
  } finally {
    await image.remove();
  }
}

function manifestFor(config: SpooledBlob, layers: readonly SpooledBlob[]): object {
  return {
    schemaVersion: 2,
    mediaType: mediaTypes.ociManifest,
    config: { mediaType: mediaTypes.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: mediaTypes.ociLayer, digest: l.digest, size: l.size })),
  };
}
