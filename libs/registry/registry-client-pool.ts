import { createHash } from "node:crypto";
import { createRegistryClient, type RegistryClient } from "./registry-client.js";
import { registryHost, type RegistryClientOptions } from "./registry-options.js";

/**
 * The registry clients a long-lived component keeps, one per destination,
 * so an ECR token, the bearer tokens per scope, the ping's auth challenge
 * and keep-alive sockets outlive a single push or check.
 */
export interface RegistryClientPool {
  /** Runs `op` with the client for `options`: made on first use, kept for later calls. */
  use<T>(options: RegistryClientOptions, op: (client: RegistryClient) => Promise<T>): Promise<T>;
  /** Closes every client (one still in use closes when its call ends). */
  close(): void;
}

export interface RegistryClientPoolDeps {
  /** How a client is made (default `createRegistryClient`). */
  readonly create?: (options: RegistryClientOptions) => RegistryClient;
  /**
   * Clients kept at most; the least recently used goes first. Destinations
   * that arrive with requests (a builder node) or credentials that rotate
   * (a new ECR token every few hours) would otherwise pile up.
   */
  readonly maxClients?: number;
}

interface PooledClient {
  readonly client: RegistryClient;
  active: number;
  retired: boolean;
}

/** Creates an empty pool; no client exists until the first `use`. */
export function createRegistryClientPool(deps: RegistryClientPoolDeps = {}): RegistryClientPool {
  const create = deps.create ?? ((options: RegistryClientOptions) => createRegistryClient(options));
  const maxClients = deps.maxClients ?? 8;
  const entries = new Map<string, PooledClient>();
  let closed = false;

  const retire = (entry: PooledClient): void => {
    entry.retired = true;
    if (entry.active === 0) entry.client.close();
  };

  function acquire(options: RegistryClientOptions): PooledClient {
    if (closed) return { client: create(options), active: 0, retired: true };
    const key = registryClientKey(options);
    let entry = entries.get(key);
    if (entry !== undefined) entries.delete(key);
    entry ??= { client: create(options), active: 0, retired: false };
    entries.set(key, entry); // last in the map = most recently used
    for (const [oldest, old] of entries) {
      if (entries.size <= maxClients) break;
      entries.delete(oldest);
      retire(old);
    }
    return entry;
  }

  return {
    async use(options, op) {
      const entry = acquire(options);
      entry.active++;
      try {
        return await op(entry.client);
      } finally {
        entry.active--;
        if (entry.retired && entry.active === 0) entry.client.close();
      }
    },
    close() {
      closed = true;
      for (const entry of entries.values()) retire(entry);
      entries.clear();
    },
  };
}

/**
 * What tells two destinations apart for a client: the host (the only part
 * of the url the client uses), scheme policy, type, region, user name, and
 * a SHA-256 fingerprint of the password, CA and client key pair, so a
 * changed credential gets a fresh client while no secret sits in the key.
 */
export function registryClientKey(options: RegistryClientOptions): string {
  const secrets = JSON.stringify([options.password?.unwrap() ?? "", options.caPem, options.clientCertPem, options.clientKeyPem?.unwrap() ?? ""]);
  const fingerprint = createHash("sha256").update(secrets).digest("hex");
  return JSON.stringify([registryHost(options.url), options.insecure, options.type, options.awsRegion, options.username, fingerprint]);
}
