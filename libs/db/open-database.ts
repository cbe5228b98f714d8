import { Kysely } from "kysely";
import type { DbBundle, DbBundleOptions, DbCapabilities, LogWaker } from "./db-bundle.js";
import type { DatabaseSchema } from "./tables.js";
import { parseDbConnection, type DbTarget } from "./connection-string.js";
import { createSqliteBundle } from "./sqlite/bundle.js";
import { DatabaseUnreachableError } from "./errors.js";
import { migrateToLatest } from "./migrations/migrate.js";
import { DomainError } from "../errors/domain-error.js";

/** An open, migrated metadata database. */
export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly capabilities: DbCapabilities;
  readonly logWaker: LogWaker;
  /** Where the data lives, safe to print. */
  readonly describe: string;
  close(): Promise<void>;
}

/** How to open the database and what to tell while waiting for it. */
export interface OpenDatabaseOptions {
  /** Postgres pool size; default 10. */
  readonly poolSize?: number;
  /** SQLite busy timeout; default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** Postgres statement, query and idle-in-transaction timeout; default 30 000 ms. */
  readonly statementTimeoutMs?: number;
  /** First retry delay (default 200 ms), doubled up to `maxRetryDelayMs` (default 10 s). */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
  /** Give up after this many failed attempts; default: never. */
  readonly maxAttempts?: number;
  /** Health: false until connected and migrated, then true. */
  readonly onHealth?: (serving: boolean) => void;
  /** Called on each failed attempt, before waiting `delayMs`. */
  readonly onRetry?: (err: DatabaseUnreachableError, attempt: number, delayMs: number) => void;
  readonly signal?: AbortSignal;
}

// `pg` is loaded only by installs that use Postgres.
const bundles: { [K in DbTarget["kind"]]: (t: Extract<DbTarget, { kind: K }>, o: DbBundleOptions) => Promise<DbBundle> } = {
  sqlite: async (t, o) => createSqliteBundle(t.path, o),
  postgres: async (t, o) => (await import("./postgres/bundle.js")).createPostgresBundle(t, o),
};

/**
 * Opens `sqlite:<path>` (creating its folder) or `postgres://…`, retrying
 * with backoff while the database is unreachable, then applies migrations.
 * Health stays NOT_SERVING (`onHealth(false)`) until this resolves.
 */
export async function openDatabase(dbConnection: string, opts: OpenDatabaseOptions = {}): Promise<Database> {
  const target = parseDbConnection(dbConnection);
  const bundleOpts: DbBundleOptions = {
    poolSize: opts.poolSize ?? 10,
    busyTimeoutMs: opts.busyTimeoutMs ?? 5000,
    statementTimeoutMs: opts.statementTimeoutMs ?? 30_000,
  };
  // Before the first await: the server must never see this service SERVING while the bundle loads.
  opts.onHealth?.(false);
  const bundle = await (target.kind === "sqlite" ? bundles.sqlite(target, bundleOpts) : bundles.postgres(target, bundleOpts));
  await waitUntilReachable(bundle, opts);
  const db = new Kysely<DatabaseSchema>({ dialect: bundle.dialect });
  try {
    await migrateToLatest(db, opts.signal);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const logWaker = bundle.createLogWaker();
  opts.onHealth?.(true);
  return {
    db,
    capabilities: bundle.capabilities,
    logWaker,
    describe: bundle.describe,
    async close() {
      opts.onHealth?.(false);
      await logWaker.close();
      await db.destroy();
    },
  };
}

async function waitUntilReachable(bundle: DbBundle, opts: OpenDatabaseOptions): Promise<void> {
  let delay = opts.retryDelayMs ?? 200;
  const maxDelay = opts.maxRetryDelayMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await bundle.probe();
      return;
    } catch (cause) {
      const err = new DatabaseUnreachableError(bundle.describe, cause);
      if (opts.maxAttempts !== undefined && attempt >= opts.maxAttempts) throw err;
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
      if (opts.signal?.aborted) throw new DomainError("canceled", `opening ${bundle.describe} was canceled`);
      delay = Math.min(maxDelay, delay * 2);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
