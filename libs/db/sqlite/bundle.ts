import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type SqliteDialectConfig } from "kysely";
import type { DbBundle, DbBundleOptions } from "../db-bundle.js";
import { createSqliteLogWaker } from "./log-waker.js";

/**
 * The SQLite backend: one better-sqlite3 connection per process, WAL mode so
 * readers never block the writer, and a busy timeout so several local
 * processes can share the file.
 */
export function createSqliteBundle(path: string, opts: DbBundleOptions): DbBundle {
  const capabilities = {
    name: "sqlite",
    beginWrite: "begin immediate",
    supportsRowLocks: false,
    supportsNotify: false,
    nowMs: sql<number>`cast(unixepoch('subsec') * 1000 as integer)`,
    logPollMs: 200,
  } as const;
  const open = (): Database.Database => {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs))}`);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    return db;
  };
  return {
    capabilities,
    dialect: new WriteLockingSqliteDialect({ database: async () => open() }),
    describe: `sqlite ${path}`,
    async probe() {
      open().close();
    },
    createLogWaker: () => createSqliteLogWaker(capabilities.logPollMs),
  };
}

/**
 * kysely's SQLite dialect with two changes that make one migration run per
 * database however many processes start together: its transactions begin
 * `immediate` (the write lock from the first statement, waiting out the busy
 * timeout, so no process reads the migration table and then writes on a stale
 * snapshot), and the migrator runs inside such a transaction (SQLite's DDL is
 * transactional; kysely's stock adapter says otherwise and runs each migration
 * bare, so two processes could both apply the first one).
 */
class WriteLockingSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.#config);
  }
  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
