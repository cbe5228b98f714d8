import { createPushPreflight } from "../../libs/registry/push-preflight.js";
import { checkRegistry, type RegistryCheckResult } from "../../libs/registry/registry-check.js";
import { createRegistryClientPool } from "../../libs/registry/registry-client-pool.js";
import { loadRegistryOptions } from "../../libs/registry/registry-options.js";
import { connectLifecycle, lifecycleFailure } from "./lifecycle-connection.js";
import { loadCliConfig } from "./load-cli-config.js";
import type { RegistryCommandIo } from "./registry.js";
import type { ServerCredentialOptions } from "./server-credential.js";

/** `buildplane registry check`: prints what was checked; a failure exits 1 with the registry's code and message. */
export async function checkRegistryCommand(opts: ServerCredentialOptions & { config?: string; server?: string; json?: boolean; origin?: string }, io: RegistryCommandIo): Promise<void> {
  let result: RegistryCheckResult;
  try {
    result = opts.server ? await checkOnServer(opts.server, opts) : await checkHere(opts.config);
  } catch (err) {
    throw lifecycleFailure(err, opts.server, opts.origin);
  }
  if (opts.json) return io.out(`${JSON.stringify({ ok: true, ...result })}\n`);
  const who = result.username === "" ? "these credentials" : `user "${result.username}"`;
  io.out(`registry "${result.registry}" accepts a push from ${who} to ${result.registry}/${result.repository}\n`);
}

async function checkHere(configFile: string | undefined): Promise<RegistryCheckResult> {
  const config = loadCliConfig(configFile);
  const pool = createRegistryClientPool();
  try {
    const options = config.registry.url === "" ? undefined : await loadRegistryOptions(config.registry);
    return await checkRegistry(config.registry, options, createPushPreflight({ pool, ttlMs: () => 0 }), undefined);
  } finally {
    pool.close();
  }
}

async function checkOnServer(url: string, opts: ServerCredentialOptions & { origin?: string }): Promise<RegistryCheckResult> {
  const conn = connectLifecycle(url, opts);
  try {
    const res = await conn.client.checkRegistry({});
    return { registry: res.registry, repository: res.repository, username: res.username };
  } finally {
    conn.close();
  }
}
