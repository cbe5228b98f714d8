import { create } from "@bufbuild/protobuf";
import { BuildHeaderSchema, type BuildHeader } from "../gen/buildplane/v1/builder_pb.js";
import type { BuildSpec, ImageRef, Registry } from "../gen/buildplane/v1/common_pb.js";

/** What a build header is made of: the spec and what resolving it found. */
export interface BuildHeaderInput {
  readonly buildId: string;
  readonly spec: BuildSpec;
  readonly image: ImageRef | undefined;
  /** The resolved commit ("" for a folder source). */
  readonly commit: string;
  /** Containerfile path relative to the build folder, as the source service found it. */
  readonly containerfile: string;
  readonly registry: Registry | undefined;
  readonly timeoutSecs: number;
}

/**
 * The labels every image gets, whichever mode builds it: the image key,
 * the build id, the app, and the OCI `revision` and `source` (the
 * repository without credentials; none for local paths).
 */
export function imageLabels(input: Pick<BuildHeaderInput, "buildId" | "spec" | "image" | "commit">): Record<string, string> {
  const labels: Record<string, string> = {
    "buildplane.image-key": input.image?.key ?? "",
    "buildplane.build-id": input.buildId,
    "org.opencontainers.image.revision": input.commit,
  };
  if (input.spec.appId) labels["buildplane.app"] = input.spec.appId;
  const source = publicRepository(input.spec.source?.repository ?? "");
  if (source) labels["org.opencontainers.image.source"] = source;
  return labels;
}

/**
 * The one `BuildHeader` builder: a real build (the resolver) and
 * `build --dry-run` both make their header here, so what the dry run shows
 * is what a build sends.
 */
export function buildHeader(input: BuildHeaderInput): BuildHeader {
  return create(BuildHeaderSchema, {
    buildId: input.buildId,
    image: input.image,
    containerfile: input.containerfile,
    args: input.spec.args,
    target: input.spec.target,
    platform: input.spec.platform,
    registry: input.registry,
    labels: imageLabels(input),
    contextBytes: 0n,
    timeoutSecs: input.timeoutSecs,
  });
}

/** The repository URL without credentials, for an image label; "" for local paths. */
export function publicRepository(repository: string): string {
  try {
    const url = new URL(repository);
    if (url.protocol === "file:") return "";
    url.username = "";
    url.password = "";
    return url.toString();
  } catch {
    return /^[\w.-]+@[\w.-]+:/.test(repository) ? repository.replace(/^[^@]+@/, "") : "";
  }
}
