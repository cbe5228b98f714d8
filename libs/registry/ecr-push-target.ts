import type { CredentialSource } from "./credentials.js";
import { createEcrCredentials, ecrRegion } from "./ecr-credentials.js";
import { createSdkEcrTokenClient } from "./ecr-sdk-client.js";
import { DomainError } from "../errors/domain-error.js";
import { registryHost, type RegistryClientOptions } from "./registry-options.js";

/**
 * Turns an `ecr` destination into basic credentials (user `AWS`, a fresh
 * token minted with this process's AWS identity), so whoever receives the
 * destination — a builder node — needs no cloud identity. One credential
 * source per registry and region keeps each token until it expires instead
 * of asking AWS per build. Other destinations pass through unchanged.
 */
export function createEcrPushTargetResolver(): <T extends RegistryClientOptions>(target: T, signal: AbortSignal) => Promise<T> {
  const sources = new Map<string, CredentialSource>();
  return async (target, signal) => {
    if (target.type !== "ecr") return target;
    const host = registryHost(target.url);
    const region = ecrRegion(host, target.awsRegion);
    const key = `${host}\0${region}`;
    let source = sources.get(key);
    if (!source) {
      source = createEcrCredentials(createSdkEcrTokenClient({ region }), host, region);
      sources.set(key, source);
    }
    const creds = await source.get(signal);
    if (!creds) throw new DomainError("unauthenticated", `no ECR token was issued for ${host}`);
    return { ...target, type: "", username: creds.username, password: creds.password };
  };
}
