import { DomainError } from "../errors/domain-error.js";

/** What a builder mode can do, as data (`services/builder` modes declare it, `GetStatus` reports it). */
export interface ModeCapabilities {
  /** Secret build args reach the build without being recorded in the image. */
  readonly secretArgs: boolean;
  /** The job's labels are put on the image. */
  readonly labels: boolean;
  /** Every build pushes: a job without a registry is refused. */
  readonly needsRegistry: boolean;
  /** The digest the mode reports comes from elsewhere (a Job, a node) and is checked in the registry after the build. */
  readonly verifiesPush: boolean;
  /** Images live in an engine on this machine (`HasImage`, engine status). */
  readonly localEngine: boolean;
  /** A target platform other than the builder's own can be asked for. */
  readonly platforms: boolean;
}

/**
 * A secret build arg sent to a mode that cannot keep it secret. Docker's
 * classic builder and Podman (buildah) both write the values of the build
 * args a `RUN` step sees into the image history (`|1 TOKEN=… /bin/sh -c …`),
 * where anyone who can pull the image reads them; refusing is the only way
 * not to leak them.
 */
export class SecretArgUnsupportedError extends DomainError {
  constructor(readonly mode: string, readonly argName: string) {
    super(
      "failedPrecondition",
      `secret build arg ${argName} is not supported by the ${mode} mode: docker and podman record build arg values in the image history`,
    );
  }
}

/** A build without a registry sent to a mode that always pushes. */
export class RegistryRequiredError extends DomainError {
  constructor(readonly mode: string, readonly buildId: string) {
    super("failedPrecondition", `build "${buildId}" has no registry: the ${mode} mode pushes to a registry, set [registry] url`);
  }
}

/** The parts of a request the capabilities decide on. */
export interface CapabilityRequest {
  /** The build id, or what names the build before it has one (the image reference). */
  readonly buildId: string;
  /** Names of the secret build args. */
  readonly secretArgs: readonly string[];
  readonly hasRegistry: boolean;
}

/**
 * The one rule for refusing a request a mode cannot serve, before any lease,
 * record or slot: a secret build arg for a mode that would record it in the
 * image, or no registry for a mode that always pushes. The builder's
 * lifecycle applies it to every build; the resolver applies it to what the
 * builder's `GetStatus` reports before it takes a lease.
 */
export function checkCapabilities(mode: string, capabilities: ModeCapabilities, request: CapabilityRequest): void {
  const secret = request.secretArgs[0];
  if (!capabilities.secretArgs && secret !== undefined) throw new SecretArgUnsupportedError(mode, secret);
  if (capabilities.needsRegistry && !request.hasRegistry) throw new RegistryRequiredError(mode, request.buildId);
}
