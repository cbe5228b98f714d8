import type { RegistryConfig } from "../../libs/config/config-types.js";
import { loadRegistryOptions } from "../../libs/registry/registry-options.js";
import type { RegistryTarget } from "../../libs/registry/registry-target.js";

/**
 * Resolves `[registry]` into credentials with the one registry credential
 * loader (`loadRegistryOptions`: `password` when set and not empty, else
 * `password_file` trimmed; CA, client certificate and key read into PEM
 * text). Files are read at call time, so rotated credentials are picked up.
 * Undefined when no registry is configured.
 */
export async function resolveRegistryCredentials(r: RegistryConfig, signal: AbortSignal): Promise<RegistryTarget | undefined> {
  if (r.url === "") return undefined;
  // ECR tokens are minted where they are used, by the registry client with
  // the caller's AWS identity (and turned into a plain token before a build
  // is delegated), so an ECR destination carries no secret here.
  if (r.type === "ecr") {
    return { url: r.url, project: r.project, type: "ecr", insecure: r.insecure, username: "", password: undefined, caPem: "", clientCertPem: "", clientKeyPem: undefined, awsRegion: r.awsRegion };
  }
  signal.throwIfAborted();
  return { ...(await loadRegistryOptions(r)), project: r.project };
}
