import { DomainError } from "../errors/domain-error.js";

/** The engine's API socket (or TCP endpoint) does not answer. */
export class EngineUnavailableError extends DomainError {
  constructor(readonly endpoint: string, reason: string, options?: { cause?: unknown }) {
    super("unavailable", `container engine at ${endpoint} is not reachable (${reason}): expected a running docker daemon or podman api service`, options);
  }
}

/**
 * The Containerfile could not be built: a failing `RUN`, a parse error, a
 * missing file or base image. The message names the failing step's exit
 * code when the engine reports one (the same words on Docker and Podman),
 * then gives the engine's own message.
 */
export class ImageBuildError extends DomainError {
  constructor(readonly tag: string, readonly engineMessage: string, readonly exitCode: number | undefined) {
    super("failedPrecondition", `build of "${tag}" failed${exitCode === undefined ? "" : ` (exit code ${exitCode})`}: ${engineMessage}`);
  }
}

/**
 * Docker's classic builder lost an image another client removed during the
 * build (`docker rmi` or `docker image prune`, a garbage collection), which
 * no lock protects:
 * - at each step it lists the images built on the step's parent, then reads
 *   each to find a cached one; one removed in between fails the build with
 *   `unable to find image "sha256:…"`, though the build never used it;
 * - `COPY --from=<stage>` reads the stage's image when it gets there; a
 *   stage taken from the cache and removed meanwhile fails it with
 *   `invalid from flag value <stage>: No such image: sha256:…`.
 * Nothing of the build is kept, and building again succeeds: the code is
 * `aborted`, a conflict to retry, not a fault of the Containerfile.
 */
export class ImageRemovedDuringBuildError extends DomainError {
  constructor(readonly tag: string, readonly imageId: string) {
    super("aborted", `build of "${tag}" was aborted: image ${imageId} was removed from the container engine during the build; the build can run again`);
  }
}

/** The image id in Docker's message for an image removed during a build, else undefined. */
export function removedDuringBuild(engineMessage: string): string | undefined {
  const message = engineMessage.trim();
  return (/^unable to find image "(sha256:[0-9a-f]{64})"$/.exec(message) ?? /^invalid from flag value [^\s:]+: No such image: (sha256:[0-9a-f]{64})$/.exec(message))?.[1];
}

/** The image reference is unknown to the engine. */
export class ImageNotFoundError extends DomainError {
  constructor(readonly ref: string) {
    super("notFound", `image "${ref}" does not exist in the local container engine`);
  }
}

/** The caller's signal aborted an engine operation. */
export class EngineOperationCanceledError extends DomainError {
  constructor(readonly operation: string) {
    super("canceled", `${operation} was canceled`);
  }
}

/** The engine refused a request for a reason other than the above. */
export class EngineRequestError extends DomainError {
  constructor(readonly operation: string, readonly status: number, readonly engineMessage: string) {
    super(status === 400 ? "invalidArgument" : "internal", `${operation} was refused by the container engine (http ${status}): ${engineMessage}`);
  }
}

/** DOCKER_HOST names a transport this library does not speak. */
export class UnsupportedDockerHostError extends DomainError {
  constructor(readonly value: string) {
    super("invalidArgument", `DOCKER_HOST "${value}" is not supported: expected unix:///path/to/socket or tcp://host:port`);
  }
}
