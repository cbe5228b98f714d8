import { randomUUID } from "node:crypto";
import { describeDbTarget, parseDbConnection } from "../../libs/db/connection-string.js";
import { openDatabase, type Database } from "../../libs/db/open-database.js";
import { startCollectionFeed } from "./collection-feed.js";
import { createCollectionWatchers } from "./collection-watchers.js";
import { MetadataUnavailableError } from "./errors.js";
import { startLeaseReaper } from "./lease-reaper.js";
import type { MetadataDeps } from "./metadata-deps.js";

/** How to run the metadata service's database side. */
export interface MetadataRuntimeOptions {
  /** `[metadata] db_connection`, unwrapped. */
  readonly dbConnection: string;
  readonly poolSize: number;
  /** `[metadata] statement_timeout_secs`, in ms. */
  readonly statementTimeoutMs?: number;
  readonly maxLogLinesPerBuild: number;
  /** Health of the metadata service: NOT_SERVING until the database is connected and migrated. */
  readonly onHealth?: (serving: boolean) => void;
  /** Each failed connection attempt (message names host and port), before the backoff wait. */
  readonly onRetry?: (message: string, attempt: number, delayMs: number) => void;
  /** Reaper failures and other background errors. */
  readonly onError?: (err: unknown) => void;
  /** How often expired build leases are reaped; default 5 s. */
  readonly reapIntervalMs?: number;
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
}

/** A metadata database being opened in the background, and the deps the service reads it through. */
export interface MetadataRuntime {
  readonly deps: MetadataDeps;
  /** Resolves once connected and migrated. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts connecting at once and returns without waiting, so the server can
 * listen and report NOT_SERVING while the database is away; until it
 * answers, every call fails with Unavailable naming the database.
 */
export function startMetadataRuntime(opts: MetadataRuntimeOptions): MetadataRuntime {
  const target = describeDbTarget(parseDbConnection(opts.dbConnection));
  const stop = new AbortController();
  let database: Database | undefined;
  let lastError = "still connecting";
  const collectionWatchers = createCollectionWatchers({ live: false });
  const origin = randomUUID();
  const deps: MetadataDeps & { collectionWatchers: typeof collectionWatchers } = {
    maxLogLinesPerBuild: opts.maxLogLinesPerBuild,
    collectionWatchers,
    origin,
    database: () => {
      if (!database) throw new MetadataUnavailableError(target, lastError);
      return database;
    },
  };
  const ready = openDatabase(opts.dbConnection, {
    poolSize: opts.poolSize,
    ...(opts.statementTimeoutMs !== undefined ? { statementTimeoutMs: opts.statementTimeoutMs } : {}),
    signal: stop.signal,
    ...(opts.retryDelayMs !== undefined ? { retryDelayMs: opts.retryDelayMs } : {}),
    ...(opts.maxRetryDelayMs !== undefined ? { maxRetryDelayMs: opts.maxRetryDelayMs } : {}),
    ...(opts.onHealth ? { onHealth: opts.onHealth } : {}),
    onRetry: (err, attempt, delayMs) => {
      lastError = err.cause instanceof Error ? err.cause.message : err.message;
      opts.onRetry?.(err.message, attempt, delayMs);
    },
  }).then(async (db) => {
    if (stop.signal.aborted) {
      await db.close();
      return;
    }
    database = db;
    startLeaseReaper(deps, {
      intervalMs: opts.reapIntervalMs ?? 5000,
      signal: stop.signal,
      ...(opts.onError ? { onError: opts.onError } : {}),
    });
    startCollectionFeed(deps, {
      origin,
      signal: stop.signal,
      ...(opts.onError ? { onChange: (live: boolean, err?: unknown) => !live && opts.onError?.(err) } : {}),
    });
  });
  ready.catch((err: unknown) => {
    lastError = err instanceof Error ? err.message : String(err);
    opts.onError?.(err);
  });
  return {
    deps,
    ready,
    async close() {
      stop.abort();
      await ready.catch(() => {});
      const db = database;
      database = undefined;
      lastError = "closed";
      await db?.close();
    },
  };
}
