import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { SqliteDialect, sql } from "kysely";
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
    dialect: new SqliteDialect({ database: async () => open() }),
    describe: `sqlite ${path}`,
    async probe() {
      open().close();
    },
    createLogWaker: () => createSqliteLogWaker(capabilities.logPollMs),
  };
}
