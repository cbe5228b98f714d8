import { Secret } from "../../libs/secret/secret.js";
import { RegistryRequiredError, SecretArgUnsupportedError } from "./build-errors.js";
import type { ModeCapabilities } from "./builder-mode.js";
import type { BuildJob, BuilderModeKind } from "./image-builder.js";

/** The parts of a request the capabilities decide on. */
export type CapabilityInput = Pick<BuildJob, "buildId" | "args" | "registry">;

/**
 * Refuses a request the mode cannot serve, before any slot is taken or any
 * work starts: a secret build arg for a mode that would record it in the
 * image, or no registry for a mode that always pushes. Pure, so the
 * lifecycle and its tests share it.
 */
export function checkCapabilities(mode: BuilderModeKind, capabilities: ModeCapabilities, job: CapabilityInput): void {
  if (!capabilities.secretArgs) {
    const secret = job.args.find((a) => a.value instanceof Secret);
    if (secret) throw new SecretArgUnsupportedError(mode, secret.name);
  }
  if (capabilities.needsRegistry && job.registry === undefined) throw new RegistryRequiredError(mode, job.buildId);
}
