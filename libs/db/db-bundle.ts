import type { Dialect, Kysely, RawBuilder } from "kysely";
import type { DatabaseSchema } from "./tables.js";

/**
 * What differs between the SQLite and Postgres backends, as data: code asks
 * the capabilities, never the dialect's name.
 */
export interface DbCapabilities {
  readonly name: "sqlite" | "postgres";
  /** Statement that opens a transaction already holding the write lock. */
  readonly beginWrite: string;
  /** `select … for update` locks rows until commit. */
  readonly supportsRowLocks: boolean;
  /** The database can push change notifications (LISTEN/NOTIFY). */
  readonly supportsNotify: boolean;
  /** The database clock in epoch milliseconds: leases use one clock. */
  readonly nowMs: RawBuilder<number>;
  /** How often a log follower re-reads when no notification arrives. */
  readonly logPollMs: number;
}

/**
 * Wakes log followers when lines or a final status were stored, in this
 * process at once and in other processes through the database (notify) or
 * by the polling fallback.
 */
export interface LogWaker {
  /** Runs inside the writing transaction so other processes hear of it at commit. */
  announce(trx: Kysely<DatabaseSchema>, buildId: string): Promise<void>;
  /** Wakes this process's waiters; call after commit. */
  wakeLocal(buildId: string): void;
  /** Resolves when news may have arrived for `buildId`, after at most the poll interval, or on abort. */
  wait(buildId: string, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** One backend: a kysely dialect plus what it can do. Same shape in every `libs/db/<dialect>/` folder. */
export interface DbBundle {
  readonly capabilities: DbCapabilities;
  readonly dialect: Dialect;
  /** Where the data lives, safe to print (no password). */
  readonly describe: string;
  /** Throws when the database cannot be reached. */
  probe(): Promise<void>;
  createLogWaker(): LogWaker;
}

/** Options common to every backend. */
export interface DbBundleOptions {
  /** Postgres pool size (ignored by SQLite, which uses one connection per process). */
  readonly poolSize: number;
  /** SQLite: how long a writer waits for another process's lock. */
  readonly busyTimeoutMs: number;
  /** Postgres: statement, query and idle-in-transaction timeout (ignored by SQLite, bounded by `busyTimeoutMs`). */
  readonly statementTimeoutMs: number;
}
