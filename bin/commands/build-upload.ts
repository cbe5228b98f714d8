import { stat } from "node:fs/promises";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { isDomainError } from "../../libs/errors/domain-error.js";
import type { BuildSpec } from "../../libs/gen/buildplane/v1/common_pb.js";
import { BuildSpecSchema } from "../../libs/gen/buildplane/v1/common_pb.js";
import { UploadHeaderSchema, type EnsureImageFromContextRequest } from "../../libs/gen/buildplane/v1/resolver_pb.js";
import { connectCodeOf } from "../../libs/rpc/errors.js";
import { describeFolder, folderContext } from "../../services/source/folder-source.js";

/** The request stream of one `build <folder> --server` call. */
export interface FolderUpload {
  readonly requests: AsyncIterable<EnsureImageFromContextRequest>;
  /** The image's content hash, as the server will check it. */
  readonly treeHash: string;
  /** Stops reading the folder: the call ended, maybe before the upload was read (an existing image). */
  close(): void;
}

/**
 * Whether `build <source> --server` uploads the source: a local folder
 * that is not a git repository (a git repository is built from its commits
 * by the source service, which a folder upload cannot name the same way).
 */
export async function isUploadedFolder(spec: BuildSpec): Promise<boolean> {
  const path = spec.source?.repository ?? "";
  if (!path.startsWith("/")) return false;
  const has = (p: string): Promise<boolean> => stat(join(path, p)).then(() => true, () => false);
  const git = (await has(".git")) || ((await has("HEAD")) && (await has("objects")));
  return !git && (await stat(path).then((s) => s.isDirectory(), () => false));
}

/**
 * Prepares the upload of a local folder's context, as `docker build` sends
 * it: the folder is described by the same code the source service runs for
 * a local folder (content hash with .dockerignore applied, containerfile
 * chosen), so the header names the image exactly as a build in this
 * process would; then the same deterministic tar follows in chunks. The
 * folder is read again while it is sent: if it changed in between, the
 * server refuses the upload because the hash no longer matches.
 */
export async function prepareFolderUpload(spec: BuildSpec, force: boolean, signal: AbortSignal): Promise<FolderUpload> {
  const folder = spec.source?.repository ?? "";
  const dir = spec.source?.dir ?? "";
  try {
    const described = await describeFolder(folder, dir, spec.containerfile, signal);
    const header = create(UploadHeaderSchema, {
      spec: create(BuildSpecSchema, { ...spec, source: undefined, containerfile: described.containerfile }),
      force,
      folder,
      dir,
      treeHash: described.treeHash,
    });
    // No signal for the file streams: one aborted while nobody reads it would fail with an unhandled error.
    async function* messages(): AsyncGenerator<EnsureImageFromContextRequest> {
      yield { $typeName: "buildplane.v1.EnsureImageFromContextRequest", message: { case: "header", value: header } };
      for await (const chunk of folderContext(folder, dir, described.containerfile)) {
        yield { $typeName: "buildplane.v1.EnsureImageFromContextRequest", message: { case: "chunk", value: chunk } };
      }
    }
    const requests = messages();
    return { requests, treeHash: described.treeHash, close: () => void requests.return(undefined).catch(() => undefined) };
  } catch (err) {
    // A missing containerfile or an unsafe --dir: the same code and words as from a server.
    throw isDomainError(err) ? new ConnectError(err.message, connectCodeOf(err.code)) : err;
  }
}
