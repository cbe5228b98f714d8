import Database from "better-sqlite3";
import { join } from "node:path";

/**
 * Whether the build lease of `imageKey` is free in a data dir's SQLite
 * database: never taken, or released (expiry in the past). Read directly,
 * since leases have no CLI command.
 */
export function buildLeaseIsFree(dataDir: string, imageKey: string): boolean {
  const db = new Database(join(dataDir, "buildplane.db"), { readonly: true });
  try {
    const row = db.prepare("select expires_at from leases where key = ?").get(`build:${imageKey}`) as { expires_at: number } | undefined;
    return row === undefined || Number(row.expires_at) <= Date.now();
  } finally {
    db.close();
  }
}
