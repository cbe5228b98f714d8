import type { Readable } from "node:stream";
import type { BuildHeader } from "../../libs/gen/buildplane/v1/builder_pb.js";
import type { Registry } from "../../libs/gen/buildplane/v1/common_pb.js";
import { DomainError } from "../../libs/errors/domain-error.js";
import { confinedRelativePath } from "../../libs/paths/relative-path.js";
import { Secret, secretOrUndefined } from "../../libs/secret/secret.js";
import type { BuildJob, PushTarget } from "./image-builder.js";

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
    registry: header.registry && header.registry.url !== "" ? pushTargetFromProto(header.registry) : undefined,
    context,
    contextBytes: header.contextBytes > 0n ? Number(header.contextBytes) : undefined,
    timeoutSecs: header.timeoutSecs > 0 ? header.timeoutSecs : defaults.timeoutSecs,
  };
}

/** Wraps the credential fields of a proto `Registry`. */
export function pushTargetFromProto(r: Registry): PushTarget {
  return {
    url: r.url,
    project: r.project,
    type: r.type === "ecr" ? "ecr" : "",
    insecure: r.insecure,
    username: r.username,
    password: secretOrUndefined(r.password),
    caPem: r.caPem,
    clientCertPem: r.clientCertPem,
    clientKeyPem: secretOrUndefined(r.clientKeyPem),
    awsRegion: r.awsRegion,
  };
}
