import { DomainError } from "../errors/domain-error.js";
import { qualifiedReference, type RegistryLocation } from "../image/qualified-reference.js";
import { repositoryOfReference, type PushPreflight } from "./push-preflight.js";
import { registryHost, type RegistryClientOptions } from "./registry-options.js";

/** The repository `buildplane registry check` tries a push on: where images go, under a name no build uses. */
export const pushCheckImageName = "cli-push-check:probe";

/** What a successful check names. */
export interface RegistryCheckResult {
  readonly registry: string;
  readonly repository: string;
  readonly username: string;
}

/** No `[registry] url`: images stay in the local engine, there is nothing to push to. */
export class NoRegistryError extends DomainError {
  constructor() {
    super("failedPrecondition", "no registry is configured: set registry.url (images stay in the local engine without one)");
  }
}

/**
 * The check behind `buildplane registry check` and `CheckRegistry`: the same
 * push check every build makes first, on the configured destination
 * (`url[/project]`), never answered from the cache of earlier successes.
 */
export async function checkRegistry(
  location: RegistryLocation,
  options: RegistryClientOptions | undefined,
  preflight: PushPreflight,
  signal: AbortSignal | undefined,
): Promise<RegistryCheckResult> {
  if (location.url === "" || options === undefined) throw new NoRegistryError();
  const repository = repositoryOfReference(qualifiedReference(location, pushCheckImageName), location.url);
  await preflight.check(options, repository, signal);
  return { registry: registryHost(location.url), repository, username: options.username };
}
