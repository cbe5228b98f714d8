import { repositoryWithoutCredentials } from "../../libs/image/repository-without-credentials.js";
import { createLogScrubber } from "../../libs/secret/scrub.js";
import { Secret } from "../../libs/secret/secret.js";
import type { ImageSpec, NewBuild, ResolvedImage } from "./domain.js";
import { secretsOfPlan } from "./plan-secrets.js";

/**
 * The build record of `resolved` as it is created, queued. The record is
 * listed to anyone who can read builds, so it holds no secret: the source
 * without URL credentials, secret args by name only, and a plain arg that
 * carries a known secret (a git password, a token) stored as `***`.
 */
export function newBuild(spec: ImageSpec, resolved: ResolvedImage, mode: string, knownSecrets: readonly string[]): NewBuild {
  const { scrub } = createLogScrubber(secretsOfPlan({ spec, knownSecrets }));
  return {
    appId: spec.appId,
    imageKey: resolved.image.key,
    image: resolved.image.reference,
    commit: resolved.commit,
    treeHash: resolved.treeHash,
    mode,
    status: "queued",
    requester: spec.requester,
    source: {
      repository: repositoryWithoutCredentials(spec.source?.repository ?? ""),
      ref: spec.source?.ref ?? "",
      dir: spec.source?.dir ?? "",
      authName: spec.source?.authName ?? "",
    },
    containerfile: resolved.containerfile,
    args: spec.args.map((a) => (a.value instanceof Secret ? { name: a.name, value: "", secret: true } : { name: a.name, value: scrub(a.value), secret: false })),
    target: spec.target,
    platform: spec.platform,
  };
}
