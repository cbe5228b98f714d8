import { RegistryError } from "./errors.js";
import type { RegistryClientPool } from "./registry-client-pool.js";
import { registryClientKey } from "./registry-client-pool.js";
import { registryHost, type RegistryClientOptions } from "./registry-options.js";

/** A push check that failed: the registry's own error, reworded to say it was found before building. */
export class PushPreflightError extends RegistryError {
  readonly repository: string;

  constructor(cause: RegistryError, repository: string) {
    super(cause.code, cause.registry, `push check of "${cause.registry}/${repository}" failed before building: ${cause.message}`, cause.retryable, { cause });
    this.repository = repository;
  }
}

/**
 * Checks that a destination accepts a push from its credentials (TLS and
 * CA, authentication, push rights on the repository) before any build
 * step runs. A success is remembered per destination (host, credentials
 * fingerprint, repository) for `ttlMs`; a failure is not, so a fixed
 * credential is seen at once.
 */
export interface PushPreflight {
  check(options: RegistryClientOptions, repository: string, signal: AbortSignal | undefined): Promise<void>;
}

export interface PushPreflightDeps {
  readonly pool: RegistryClientPool;
  /** How long a success is trusted; 0 checks every time. */
  readonly ttlMs: () => number;
  readonly now?: () => number;
}

/** Creates the check; remembered successes live in this object. */
export function createPushPreflight(deps: PushPreflightDeps): PushPreflight {
  const now = deps.now ?? Date.now;
  const passed = new Map<string, number>();
  return {
    async check(options, repository, signal) {
      const key = `${registryClientKey(options)} ${repository}`;
      const until = passed.get(key);
      if (until !== undefined && now() < until) return;
      passed.delete(key);
      try {
        await deps.pool.use(options, (client) => client.checkPush(repository, signal));
      } catch (err) {
        if (err instanceof RegistryError && err.code !== "canceled") throw new PushPreflightError(err, repository);
        throw err;
      }
      const ttl = deps.ttlMs();
      if (ttl > 0) {
        passed.set(key, now() + ttl);
        // Bounded: destinations arrive with requests on a builder pool.
        if (passed.size > 256) passed.delete(passed.keys().next().value ?? "");
      }
    },
  };
}

/** The repository part of a registry-qualified reference `host[:port]/repo[:tag|@digest]`. */
export function repositoryOfReference(reference: string, registryUrl: string): string {
  const host = registryHost(registryUrl);
  const rest = reference.startsWith(`${host}/`) ? reference.slice(host.length + 1) : reference;
  const noDigest = rest.split("@")[0] ?? rest;
  const colon = noDigest.lastIndexOf(":");
  return colon > noDigest.lastIndexOf("/") ? noDigest.slice(0, colon) : noDigest;
}
