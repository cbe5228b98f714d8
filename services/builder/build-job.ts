import type { Readable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { BuildHeaderSchema, type BuildHeader } from "../../libs/gen/buildplane/v1/builder_pb.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import { confinedRelativePath } from "../../libs/paths/relative-path.js";
import { registryTargetFromWire, registryTargetToWire, type RegistryTarget } from "../../libs/registry/registry-target.js";
import { Secret } from "../../libs/secret/secret.js";
import type { BuildJob } from "./image-builder.js";

/** A Build stream whose header is missing or incomplete. */
export class InvalidBuildHeaderError extends DomainError {
  constructor(message: string) {
    super("invalidArgument", message);
  }
}

const argName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Turns a Build stream header into a validated `BuildJob`: paths confined,
 * arg names checked and sorted, secret values wrapped. No work starts on an
 * invalid header.
 */
export function buildJobFromHeader(
  header: BuildHeader,
  context: Readable,
  defaults: { readonly timeoutSecs: number },
): BuildJob {
  const image = header.image;
  if (!image || image.name === "") throw new InvalidBuildHeaderError("build header has no image name: expected image.name such as cli-app:0123456789abcdef");
  if (header.buildId === "") throw new InvalidBuildHeaderError("build header has no build_id");
  const containerfile = confinedRelativePath("containerfile", header.containerfile || "Dockerfile");
  const seen = new Set<string>();
  const args = [...header.args]
    .map((a) => {
      if (!argName.test(a.name)) throw new InvalidBuildHeaderError(`build arg name "${a.name}" is not valid: expected letters, digits and _, not starting with a digit`);
      if (seen.has(a.name)) throw new InvalidBuildHeaderError(`build arg "${a.name}" is given twice`);
      seen.add(a.name);
      return { name: a.name, value: a.secret ? new Secret(a.value) : a.value };
    })
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return {
    buildId: header.buildId,
    name: image.name,
    reference: image.reference || image.name,
    imageKey: image.key,
    appId: header.labels["buildplane.app"] ?? "",
    containerfile,
    args,
    target: header.target,
    platform: header.platform,
    labels: { ...header.labels },
    registry: header.registry && header.registry.url !== "" ? registryTargetFromWire(header.registry) : undefined,
    context,
    contextBytes: header.contextBytes > 0n ? Number(header.contextBytes) : undefined,
    timeoutSecs: header.timeoutSecs > 0 ? header.timeoutSecs : defaults.timeoutSecs,
  };
}

/**
 * The header a delegated build is forwarded with: the inverse of
 * `buildJobFromHeader`, so a node gets the job the main install validated
 * (labels, args and secrets as they were), pushed to `registry` (the
 * destination with credentials as values).
 */
export function buildHeaderFromJob(job: Omit<BuildJob, "context">, registry: RegistryTarget): BuildHeader {
  return create(BuildHeaderSchema, {
    buildId: job.buildId,
    image: { key: job.imageKey, name: job.name, reference: job.reference },
    containerfile: job.containerfile,
    args: job.args.map((a) => (a.value instanceof Secret ? { name: a.name, value: a.value.unwrap(), secret: true } : { name: a.name, value: a.value, secret: false })),
    target: job.target,
    platform: job.platform,
    registry: registryTargetToWire(registry),
    labels: { ...job.labels },
    contextBytes: BigInt(job.contextBytes ?? 0),
    timeoutSecs: job.timeoutSecs,
  });
}
