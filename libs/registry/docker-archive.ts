import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract } from "tar-stream";
import { DomainError } from "../errors/domain-error.js";
import type { BlobSource } from "./blob-upload.js";
import { defaultTempRoot, makeOwnedTempDir, removeOwnedTempDir } from "../temp/owned-temp.js";

/** A blob written to the spool folder, readable again (by range) for retries and chunks. */
export interface SpooledBlob extends BlobSource {
  readonly path: string;
}

/** A `docker save` archive spooled to disk: its config and layers in order. */
export interface SpooledImage {
  readonly config: SpooledBlob;
  readonly layers: readonly SpooledBlob[];
  /** Removes the spool folder; safe to call twice. */
  remove(): Promise<void>;
}

/** The engine's export is not a `docker save` archive we can read. */
export class ImageArchiveError extends DomainError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super("internal", `image archive from the engine is not usable: ${detail}`, options);
  }
}

const maxManifestBytes = 1024 * 1024;

/**
 * Streams a `docker save` tarball (Docker or Podman: `manifest.json`, a
 * config JSON, one uncompressed tar per layer) into a temp folder, hashing
 * each file on the way, so layers of any size never sit in memory. The
 * folder is an owned one under `defaultTempRoot()`, swept at start-up when
 * a killed process left it. Entry
 * names are never used as paths. The folder is removed on every failure;
 * on success the caller calls `remove()`.
 */
export async function spoolDockerArchive(archive: Readable, signal?: AbortSignal): Promise<SpooledImage> {
  const root = defaultTempRoot();
  const dir = await makeOwnedTempDir(root, "push");
  const remove = () => removeOwnedTempDir(dir, root);
  try {
    const files = new Map<string, SpooledBlob>();
    const ex = extract();
    let n = 0;
    ex.on("entry", (head, entry, next) => {
      if (head.type !== "file") {
        entry.resume();
        entry.on("end", next);
        return;
      }
      const path = join(dir, `f${n++}`);
      const hash = createHash("sha256");
      let size = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          size += chunk.length;
          cb(null, chunk);
        },
      });
      pipeline(entry, tap, createWriteStream(path), { signal }).then(() => {
        files.set(head.name.replace(/^\.\//, ""), spooled(path, `sha256:${hash.digest("hex")}`, size));
        next();
      }, next);
    });
    await pipeline(archive, ex, { signal });
    const manifestFile = files.get("manifest.json");
    if (manifestFile === undefined) throw new ImageArchiveError("manifest.json is missing: expected docker save output");
    if (manifestFile.size > maxManifestBytes) throw new ImageArchiveError(`manifest.json is ${manifestFile.size} bytes: expected at most ${maxManifestBytes}`);
    const entries = parseManifest(await readFile(manifestFile.path, "utf8"));
    const find = (name: string): SpooledBlob => {
      const f = files.get(name.replace(/^\.\//, ""));
      if (f === undefined) throw new ImageArchiveError(`manifest.json names ${JSON.stringify(name)}, which the archive does not hold`);
      return f;
    };
    return { config: find(entries.config), layers: entries.layers.map(find), remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

function spooled(path: string, digest: string, size: number): SpooledBlob {
  return { path, digest, size, open: (range) => createReadStream(path, range === undefined ? {} : { start: range.start, end: range.end }) };
}

function parseManifest(text: string): { config: string; layers: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ImageArchiveError("manifest.json is not JSON", { cause: err });
  }
  const first = Array.isArray(parsed) && parsed.length === 1 ? (parsed[0] as { Config?: unknown; Layers?: unknown }) : undefined;
  if (first === undefined) throw new ImageArchiveError("manifest.json must describe exactly one image");
  const { Config: config, Layers: layers } = first;
  if (typeof config !== "string" || !Array.isArray(layers) || !layers.every((l): l is string => typeof l === "string")) {
    throw new ImageArchiveError("manifest.json entry needs Config (string) and Layers (strings)");
  }
  return { config, layers };
}
