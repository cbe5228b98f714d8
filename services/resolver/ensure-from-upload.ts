import { normalizeRelativePath } from "../../libs/git/safe-path.js";
import { generateImage } from "../../libs/image/image-ref.js";
import type { RegistryLocation } from "../../libs/image/qualified-reference.js";
import { Secret } from "../../libs/secret/secret.js";
import { imageEvent, type ImageEvent, type ImageSpec, type ResolvedImage } from "./domain.js";
import type { EnsureImageFlow } from "./ensure-image.js";
import type { ImageLocator } from "./ports.js";
import { UploadEntryError, UploadHashMismatchError, UploadHeaderError } from "./upload-errors.js";
import { spoolUpload, type SpoolOptions } from "./upload-spool.js";

/** The first message of an upload, in our own terms. */
export interface UploadHeader {
  readonly spec: ImageSpec | undefined;
  readonly force: boolean;
  /** The caller's folder path and the folder packed inside it: naming inputs only. */
  readonly folder: string;
  readonly dir: string;
  /** `sha256:<hex>` the caller computed over the context. */
  readonly treeHash: string;
}

/** What `createEnsureImageFromUpload` needs. */
export interface EnsureFromUploadDeps {
  /** The EnsureImage machinery: single flight, leases, records, logs. */
  readonly flow: EnsureImageFlow;
  /** `[registry] url` and `project`; undefined keeps names local. */
  readonly registry: RegistryLocation | undefined;
  /** The existence check EnsureImage uses. */
  readonly locator: ImageLocator;
  /** The install key that hashes secret args, as ResolveImage uses it; asked only when a spec has one. */
  readonly installKey?: ((signal: AbortSignal | undefined) => Promise<Uint8Array>) | undefined;
  readonly spool: SpoolOptions;
}

/** EnsureImageFromContext's domain flow: the header, the context's bytes, the call's signal. */
export type EnsureImageFromUpload = (header: UploadHeader, context: AsyncIterator<Uint8Array>, signal: AbortSignal) => AsyncIterable<ImageEvent>;

const treeHashShape = /^sha256:[0-9a-f]{64}$/;

/**
 * EnsureImage for a context the caller uploads. The header names the image
 * exactly as the same folder is named in the caller's process (folder path,
 * dir, content hash, resolved containerfile, args, target, platform), so the
 * existence check comes first: an existing image is answered with one Ready
 * event and the upload is never read, and a build of the same image already
 * running here is followed instead. Otherwise the upload is spooled, and its
 * entries must hash to the header's tree hash and hold the containerfile
 * before anything is built: a caller cannot put other content under a name.
 */
export function createEnsureImageFromUpload(deps: EnsureFromUploadDeps): EnsureImageFromUpload {
  const resolve = async (h: CheckedHeader, signal: AbortSignal): Promise<ResolvedImage> => {
    const installKey = h.spec.args.some((a) => a.value instanceof Secret) && deps.installKey ? await deps.installKey(signal) : undefined;
    const image = generateImage(
      {
        appId: h.spec.appId,
        repository: h.folder,
        dir: h.dir,
        treeHash: h.treeHash,
        containerfile: h.spec.containerfile,
        args: h.spec.args.map((a) => ({ name: a.name, value: a.value, secret: a.value instanceof Secret })),
        target: h.spec.target,
        platform: h.spec.platform,
      },
      deps.registry,
      installKey,
    );
    const found = await deps.locator.find(image.reference, signal);
    return {
      image: { key: image.key, name: image.name, reference: image.reference },
      commit: "",
      treeHash: h.treeHash,
      containerfile: h.spec.containerfile,
      exists: found !== undefined,
      digest: found?.digest ?? "",
    };
  };

  return async function* ensureImageFromUpload(header, context, signal) {
    const h = checkHeader(header);
    const resolved = await resolve(h, signal);
    if (resolved.exists && !h.force) {
      yield imageEvent("", { type: "ready", image: resolved.image.reference, digest: resolved.digest, cached: true });
      return;
    }
    const running = deps.flow.attachRunning(resolved.image.key, signal);
    if (running) {
      yield* running;
      return;
    }
    const spooled = await spoolUpload(context, deps.spool, signal);
    try {
      if (spooled.treeHash !== h.treeHash) throw new UploadHashMismatchError(h.treeHash, spooled.treeHash);
      if (!spooled.files.has(h.spec.containerfile)) throw new UploadEntryError(h.spec.containerfile, "the containerfile the header names is not a file in the uploaded context");
    } catch (err) {
      await spooled.dispose();
      throw err;
    }
    yield* deps.flow.buildUploaded(h.spec, resolved, { chunks: spooled.chunks, resolve: (s) => resolve(h, s), dispose: spooled.dispose }, signal);
  };
}

interface CheckedHeader {
  /** The spec with the containerfile normalized and the folder as its source, for the build record. */
  readonly spec: ImageSpec;
  readonly force: boolean;
  readonly folder: string;
  readonly dir: string;
  readonly treeHash: string;
}

/** Refuses a header that could not name an image the way a local build does. */
function checkHeader(header: UploadHeader): CheckedHeader {
  const spec = header.spec;
  if (spec === undefined) throw new UploadHeaderError("header.spec", "upload header has no spec: expected spec.containerfile at least");
  const src = spec.source;
  if (src !== undefined && (src.repository !== "" || src.ref !== "" || src.authName !== "" || src.credentials !== undefined)) {
    throw new UploadHeaderError("header.spec.source", "upload header spec.source must be unset: the context comes in the upload, and header.folder names the caller's folder");
  }
  const containerfile = normalizeRelativePath("header.spec.containerfile", spec.containerfile);
  if (containerfile === "" || containerfile === "auto") {
    throw new UploadHeaderError("header.spec.containerfile", `upload header spec.containerfile ${JSON.stringify(spec.containerfile)} is not valid: expected the containerfile's path in the context, as the caller chose it`);
  }
  if (!treeHashShape.test(header.treeHash)) {
    throw new UploadHeaderError("header.tree_hash", `upload header tree_hash ${JSON.stringify(header.treeHash)} is not valid: expected sha256:<64 hex> of the context`);
  }
  if (spec.appId === "" && header.folder.trim() === "") {
    throw new UploadHeaderError("header.folder", "upload header folder is empty: expected the folder's path on the caller's machine, or spec.app_id");
  }
  normalizeRelativePath("header.dir", header.dir);
  return {
    spec: { ...spec, containerfile, source: { repository: header.folder, ref: "", dir: header.dir, authName: "", credentials: undefined } },
    force: header.force,
    folder: header.folder,
    dir: header.dir,
    treeHash: header.treeHash,
  };
}
